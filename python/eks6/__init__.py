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

# Each module lists its public names once, in its __all__; this one joins them.
from . import _eks6, client, errors, model
from ._eks6 import *  # noqa: F403 - the address functions (and WORKFLOW), in _eks6.__all__
from ._eks6 import __version__
from .errors import *  # noqa: F403 - one class per error kind, in errors.__all__
from .model import *  # noqa: F403 - the dataclasses, in model.__all__

if WORKFLOW:  # noqa: F405 - from _eks6: a build with the `workflow` feature (the default)
    from .client import *  # noqa: F403 - the workflow API, in client.__all__
else:

    def __getattr__(name: str) -> object:
        if name in client.__all__:
            raise ImportError(
                f"eks6.{name} is part of the workflows, and this eks6 was built without them "
                "(the address functions only); reinstall without MATURIN_PEP517_ARGS=--no-default-features"
            )
        raise AttributeError(f"module 'eks6' has no attribute {name!r}")


__all__ = (
    ["__version__"]
    + list(_eks6.__all__)
    + (list(client.__all__) if _eks6.WORKFLOW else [])
    + errors.__all__
    + model.__all__
)
