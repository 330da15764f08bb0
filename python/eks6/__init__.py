"""eks6: stand up and check IPv6 Amazon EKS clusters, and the IPv6 math that goes with it.

Addresses and prefixes are accepted as ``str`` or ``ipaddress.IPv6Address`` /
``IPv6Network``; results are ``str``. The workflows (``Client.up``/``verify``/``down``)
are coroutines with blocking ``*_sync`` twins; findings, events and reports are frozen
dataclasses (``eks6.model``). Logging goes to the ``eks6`` logger.

>>> import eks6
>>> eks6.canonical("2001:DB8:0:0:1::1")
'2001:db8::1:0:0:1'
>>> eks6.carve("2600:1f13:812::/56", 64)[255]
'2600:1f13:812:ff::/64'
"""

from ._eks6 import (
    WORKFLOW,
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
from . import errors, model
from .errors import *  # noqa: F403 - one class per error kind, listed in errors.__all__
from .model import *  # noqa: F403 - the dataclasses, listed in model.__all__

# The workflows, in a build with the `workflow` feature (the default; see WORKFLOW).
_WORKFLOW_NAMES = ["Cancel", "Client", "ClusterPlan", "probe", "probe_sync"]
if WORKFLOW:
    from ._eks6 import Cancel
    from .client import Client, ClusterPlan, probe, probe_sync
else:

    def __getattr__(name: str) -> object:
        if name in _WORKFLOW_NAMES:
            raise ImportError(
                f"eks6.{name} is part of the workflows, and this eks6 was built without them "
                "(the address functions only); reinstall without MATURIN_PEP517_ARGS=--no-default-features"
            )
        raise AttributeError(f"module 'eks6' has no attribute {name!r}")


__all__ = [
    "__version__",
    "WORKFLOW",
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
] + (_WORKFLOW_NAMES if WORKFLOW else []) + errors.__all__ + model.__all__
