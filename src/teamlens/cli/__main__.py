"""`python -m teamlens.cli` runs the command line."""

from teamlens.cli.app import main

main()
