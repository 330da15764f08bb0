"""What the package holds matches how it was built: with the workflows (the default) or
the address functions alone (`--no-default-features`, run by `make test-python-lite`)."""

import os

import pytest

import eks6

WORKFLOW_NAMES = {"Cancel", "Client", "ClusterPlan", "probe", "probe_sync"}


def test_workflow_names_match_the_build():
    # make sets this to 0 for the address-only package, so that the full one, imported by
    # mistake, fails here.
    assert eks6.WORKFLOW == (os.environ.get("EKS6_EXPECT_WORKFLOW", "1") == "1")
    if eks6.WORKFLOW:
        assert WORKFLOW_NAMES <= set(eks6.__all__)
        assert all(hasattr(eks6, n) for n in WORKFLOW_NAMES)
    else:
        assert not WORKFLOW_NAMES & set(eks6.__all__)
        with pytest.raises(ImportError, match="built without them"):
            from eks6 import Client  # noqa: F401
        with pytest.raises(ImportError, match="eks6.probe_sync"):
            eks6.probe_sync("::1")
        with pytest.raises(AttributeError):
            eks6.no_such_name


def test_address_functions_and_errors_in_every_build():
    assert eks6.carve("2600:1f13:812::/56", 64)[255] == "2600:1f13:812:ff::/64"
    with pytest.raises(eks6.AddressError) as e:
        eks6.canonical("2001:db8::35000000")
    assert isinstance(e.value, ValueError) and e.value.offset is not None
    assert eks6.Finding is eks6.model.Finding
