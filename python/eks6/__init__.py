"""eks6: IPv6 address and prefix math for EKS (the workflow API is coming).

Addresses and prefixes are accepted as ``str`` or ``ipaddress.IPv6Address`` /
``IPv6Network``; results are ``str``.

>>> import eks6
>>> eks6.canonical("2001:DB8:0:0:1::1")
'2001:db8::1:0:0:1'
>>> eks6.carve("2600:1f13:812::/56", 64)[255]
'2600:1f13:812:ff::/64'
"""

from ._eks6 import (
    Carve,
    PrefixAllocator,
    PrefixTable,
    __version__,
    aggregate,
    bracketed_url,
    canonical,
    carve,
    contains,
    expanded,
    nth_subnet,
    reverse_name,
    subnet_count,
)
from .errors import (
    AddressError,
    AwsError,
    ConflictError,
    Eks6Error,
    ExhaustedError,
    NotFoundError,
    PlanError,
    ThrottledError,
    TimeoutError,
)

__all__ = [
    "__version__",
    "Carve",
    "PrefixAllocator",
    "PrefixTable",
    "aggregate",
    "bracketed_url",
    "canonical",
    "carve",
    "contains",
    "expanded",
    "nth_subnet",
    "reverse_name",
    "subnet_count",
    "Eks6Error",
    "AddressError",
    "ExhaustedError",
    "PlanError",
    "AwsError",
    "ThrottledError",
    "NotFoundError",
    "ConflictError",
    "TimeoutError",
]
