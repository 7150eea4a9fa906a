#!/usr/bin/env bash
# Start the services the test suite needs. Each is optional on a developer's machine: a test
# that needs a missing service is skipped with the reason. Under CI (CI=true) they are installed.
set -euo pipefail
echo "test services: none needed yet"
