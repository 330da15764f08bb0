"""eks6 exceptions: one base class, one class per kind of the core's error table.

Input errors also derive from ValueError; eks6.TimeoutError is also the builtin
TimeoutError.
"""

import builtins
import json
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .model import Finding

__all__ = [
    "Eks6Error",
    "AddressError",
    "ExhaustedError",
    "PlanError",
    "AwsError",
    "ThrottledError",
    "NotFoundError",
    "ConflictError",
    "TimeoutError",
    "LockedError",
    "CancelledError",
    "IoError",
    "ProbeError",
    "ProbeTargetError",
]


class Eks6Error(Exception):
    """The base of every eks6 error."""


class AddressError(Eks6Error, ValueError):
    """Bad address, prefix, length or URL input.

    ``input`` is the offending text; ``offset`` the index (in characters) of the problem
    in it, where there is one.
    """

    def __init__(self, message: str, input: Optional[str] = None, offset: Optional[int] = None) -> None:
        super().__init__(message)
        self.input = input
        self.offset = offset


class ExhaustedError(Eks6Error):
    """A prefix allocator has no free prefix of the length asked."""


class PlanError(Eks6Error, ValueError):
    """A cluster plan that does not parse, fails its pre-flight checks, or names another
    region than the client's. ``findings`` holds the pre-flight findings (errors first)
    when there are some.
    """

    def __init__(self, message: str, findings_json: Optional[str] = None) -> None:
        super().__init__(message)
        from .model import Finding

        self.findings: "tuple[Finding, ...]" = (
            tuple(Finding.from_dict(f) for f in json.loads(findings_json)) if findings_json else ()
        )


class AwsError(Eks6Error):
    """An AWS call failed: ``code`` and ``message`` are AWS's."""

    def __init__(self, message: str, code: Optional[str] = None, aws_message: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = aws_message if aws_message is not None else message


class ThrottledError(AwsError):
    """Throttled past the retries."""


class NotFoundError(AwsError):
    """A resource that does not exist."""


class ConflictError(AwsError):
    """In use, a dependency, or owned by someone else."""


class TimeoutError(AwsError, builtins.TimeoutError):  # noqa: A001 - eks6.TimeoutError by design
    """A wait or call past its limit."""


class LockedError(ConflictError):
    """Another eks6 run holds the journal's lock: wait for it to finish."""


class CancelledError(Eks6Error):
    """Cancelled by the caller; the journal records what was done (run ``up`` again to
    resume, or ``down``)."""


class IoError(Eks6Error, OSError):
    """Local I/O: the journal or a plan file."""


class ProbeError(Eks6Error):
    """The HTTP probe over IPv6 failed: the connection was refused, unreachable or reset,
    or the answer was not HTTP."""


class ProbeTargetError(ProbeError, ValueError):
    """The probe target is not IPv6 (an IPv4 address, or a name without AAAA)."""
