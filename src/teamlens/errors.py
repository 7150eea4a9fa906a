"""Every error teamlens raises on purpose, in one tree.

::

    TeamlensError(message, hint)
    ├── ConfigError              settings, key file, data folder
    ├── PolicyError              a policy file or policy state is not acceptable
    │   ├── PolicyFieldError     one field of a policy TOML is wrong (names the field)
    │   └── NoApprovedPolicy     nothing may be ingested or released (off by default)
    │       └── PolicyLapsed     ...because the policy passed its review date unrenewed (R6)
    ├── InputFormatError         an input file is not what it claims (names file, line, field)
    ├── StoreError               the fact store cannot be read or written
    ├── ReleaseError             a release spec is not in the approved catalogue
    │   ├── BudgetExceeded       the release would exceed the period's privacy budget
    │   └── BooksMismatch        the ledger or kept measurements disagree with the audit log
    ├── AccessDenied             this role may not see or do this
    └── InternalError            a broken invariant: a bug in teamlens

Messages never contain a person's identifier or value: they name files, lines, fields and
policy settings only (see ``tests/attacks`` for the canary test that keeps this true).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path


class TeamlensError(Exception):
    """Base of every error teamlens raises on purpose: what happened, and what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class ConfigError(TeamlensError):
    """Settings, the pseudonymisation key or the data folder are missing or unsafe."""

    exit_code = 2


class PolicyError(TeamlensError):
    """A policy file or the policy state does not allow what was asked."""

    exit_code = 3


class PolicyFieldError(PolicyError):
    """One field of a policy document is missing, unknown or out of range."""

    def __init__(self, source: str, field: str, problem: str, hint: str = "") -> None:
        super().__init__(f"{source}: policy field '{field}': {problem}", hint)
        self.source = source
        self.field = field
        self.problem = problem


class NoApprovedPolicy(PolicyError):
    """Raised by every ingest and release path while no policy version is approved and active."""

    def __init__(self, action: str) -> None:
        super().__init__(
            f"Refusing to {action}: no approved policy. teamlens is off until workers' "
            "representatives and the employer have both approved a processing policy.",
            "Write a policy (`teamlens policy template > policy.toml`), propose it (`teamlens policy "
            "propose policy.toml`) and follow the steps it prints; `teamlens policy list` shows what "
            "each version still waits for.",
        )
        self.action = action


class PolicyLapsed(NoApprovedPolicy):
    """Raised instead of ``NoApprovedPolicy`` when the policy stopped at its review date (R6)."""

    def __init__(self, action: str, policy_id: str, version: int, review_date: object) -> None:
        PolicyError.__init__(
            self,
            f"Refusing to {action}: policy '{policy_id}' version {version} lapsed when its review date "
            f"({review_date}) passed without renewal, so all processing has stopped.",
            "Both parties review the policy and approve a new version with a later review_date: "
            "`teamlens policy propose FILE`, then the steps it prints.",
        )
        self.action = action
        self.policy_id = policy_id
        self.version = version


class InputFormatError(TeamlensError):
    """An input file is malformed; names the file, the line or record, and the field."""

    exit_code = 4

    def __init__(
        self,
        file: Path | str,
        problem: str,
        *,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
        hint: str = "",
    ) -> None:
        where = str(file)
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", column '{field}'"
        message = f"{where}: {problem}"
        if expected:
            message += f" (expected {expected})"
        super().__init__(message, hint or "Fix or re-export the file; nothing from it was stored.")
        self.file = str(file)
        self.line = line
        self.field = field


class StoreError(TeamlensError):
    """The fact store is unreadable, locked or inconsistent."""

    exit_code = 5


class ReleaseError(TeamlensError):
    """A release asks for something the approved report catalogue does not contain."""

    exit_code = 6


class BudgetExceeded(ReleaseError):
    """The release would spend more privacy budget than the period has left."""

    def __init__(self, requested: Fraction, remaining: Fraction, unit: str = "ρ (zCDP)") -> None:
        difference = requested - remaining
        super().__init__(
            f"Refused: this release needs {unit} {float(requested):.6g} but only {float(remaining):.6g} "
            f"remains in this policy period (short by {float(difference):.6g}). Nothing was released "
            "and nothing was charged.",
            "Release fewer windows or metrics, wait for the next policy period, or agree a larger "
            "budget in a new policy version (which needs both parties' approval).",
        )
        self.requested = requested
        self.remaining = remaining
        self.difference = difference


class BooksMismatch(ReleaseError):
    """The budget ledger or the kept measurements no longer agree with the hash-chained audit log."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"Refused: {problem}. Nothing was released and nothing was charged; the mismatch is "
            "recorded in the audit log.",
            "Someone changed the governance database outside teamlens. Restore it from a backup "
            "taken before the change, then check it with `teamlens audit verify`; do not release "
            "until both agree.",
        )
        self.problem = problem


class AccessDenied(TeamlensError):
    """The caller's role may not see or do this."""

    exit_code = 7


class InternalError(TeamlensError):
    """A broken invariant inside teamlens."""

    exit_code = 70

    def __init__(self, message: str) -> None:
        super().__init__(
            f"{message} — this is a bug in teamlens, please report it.",
            "Include the command you ran and this message; it contains no personal data.",
        )
