"""eks6 exceptions: one base class, and the classes the core's error table names for its
kinds (``eks6._eks6._error_kinds()`` lists them; a test checks every kind maps to its
class).

Every eks6 exception carries ``kind``, the stable kind name (``invalid_address``,
``aws_throttled``, ...). Input errors also derive from ValueError; ``eks6.TimeoutError``
is also the builtin TimeoutError, ``eks6.IoError`` an OSError.
"""

import builtins
import json
from typing import TYPE_CHECKING, Any, Mapping, Optional

if TYPE_CHECKING:
    from .model import Finding

__all__ = [
    "Eks6Error",
    "AddressError",
    "ArgumentError",
    "ExhaustedError",
    "PlanError",
    "AwsError",
    "CredentialsError",
    "QuotaError",
    "ThrottledError",
    "NotFoundError",
    "ConflictError",
    "TimeoutError",
    "LockedError",
    "CancelledError",
    "IoError",
    "ProbeError",
    "ProbeTargetError",
    "KubeError",
    "KubeUnauthorizedError",
    "InternalError",
]


class Eks6Error(Exception):
    """The base of every eks6 error. ``kind`` is the stable kind name."""

    def __init__(self, message: str, details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message)
        d = dict(details or {})
        self.kind: Optional[str] = d.get("kind")
        self._details = d


class AddressError(Eks6Error, ValueError):
    """Bad address, prefix, length or URL input.

    ``input`` is the offending text; ``offset`` the index (in characters) of the problem
    in it, where there is one.
    """

    def __init__(self, message: str, details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message, details)
        self.input: Optional[str] = self._details.get("input")
        self.offset: Optional[int] = self._details.get("offset")


class ArgumentError(Eks6Error, ValueError):
    """An argument out of its domain: a time limit that is not a finite number of seconds
    above zero, a malformed region or endpoint URL."""


class ExhaustedError(Eks6Error):
    """A prefix allocator has no free prefix of the length asked."""


class PlanError(Eks6Error, ValueError):
    """A cluster plan that does not parse, fails its pre-flight checks, or names another
    region than the client's. ``findings`` holds the pre-flight findings (errors first)
    when there are some.
    """

    def __init__(self, message: str, details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message, details)
        from .model import Finding

        text = self._details.get("findings_json")
        self.findings: "tuple[Finding, ...]" = tuple(Finding.from_dict(f) for f in json.loads(text)) if text else ()


class AwsError(Eks6Error):
    """An AWS call failed: ``code`` and ``message`` are AWS's (``message`` is the whole
    message when AWS gave none)."""

    def __init__(self, message: str, details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message, details)
        self.code: Optional[str] = self._details.get("code")
        aws_message = self._details.get("aws_message")
        self.message: str = aws_message if aws_message is not None else message


class CredentialsError(AwsError):
    """No credentials, bad ones, or access denied."""


class QuotaError(AwsError):
    """An account quota reached (a limit that can be raised); waiting does not help."""


class ThrottledError(AwsError):
    """Throttled past the retries."""


class NotFoundError(AwsError):
    """A resource that does not exist."""


class ConflictError(AwsError):
    """In use, a dependency, or owned by someone else."""


class TimeoutError(AwsError, builtins.TimeoutError):  # noqa: A001 - eks6.TimeoutError by design
    """A wait or call past its limit."""


class LockedError(ConflictError):
    """Another eks6 run holds the plan's lock: wait for it to finish."""


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


class KubeError(Eks6Error):
    """The Kubernetes API answered with an error (``status``, the HTTP status, and
    ``reason``, the status reason, say which), or could not be reached (both ``None``)."""

    def __init__(self, message: str, details: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__(message, details)
        self.status: Optional[int] = self._details.get("http_status")
        self.reason: Optional[str] = self._details.get("reason")


class KubeUnauthorizedError(KubeError):
    """The Kubernetes API refused the credentials: the identity has no access entry on
    the cluster, or the token is bad or expired."""


class InternalError(Eks6Error):
    """A bug in eks6, or a local failure it cannot classify."""
