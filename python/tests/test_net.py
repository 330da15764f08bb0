"""The address API of the eks6 package: the shared vectors, the standard library's
ipaddress on random input, the exception hierarchy."""

import ipaddress
import json
import os
import pathlib
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eks6

VECTORS = pathlib.Path(os.environ.get("EKS6_VECTORS", pathlib.Path(__file__).parents[2] / "tests" / "vectors" / "ipv6.json"))


@pytest.fixture(scope="module")
def vectors():
    return json.loads(VECTORS.read_text())


def test_version():
    assert eks6.__version__ and eks6.__version__[0].isdigit()


def test_canonical_vectors(vectors):
    for v in vectors["canonical"]:
        assert eks6.canonical(v["input"]) == v["canonical"]
        assert eks6.expanded(v["input"]) == v["expanded"]
        assert eks6.reverse_name(v["input"]) == v["reverse"]
        assert eks6.canonical(ipaddress.IPv6Address(v["input"])) == v["canonical"]


def test_invalid_vectors(vectors):
    for v in vectors["invalid_addresses"]:
        with pytest.raises(eks6.AddressError) as e:
            eks6.canonical(v["input"])
        assert e.value.input == v["input"]
        assert isinstance(e.value, ValueError)
    with pytest.raises(eks6.AddressError) as e:
        eks6.canonical("2600:0000:0000:35000000:46f9::1")
    assert e.value.offset == 15
    assert 'group "35000000" at offset 15 has 8 hex digits' in str(e.value)
    # The offset counts characters, not bytes.
    with pytest.raises(eks6.AddressError) as e:
        eks6.canonical("é::g")
    assert e.value.offset == 0


def test_carve_vectors(vectors):
    for v in vectors["carve"]:
        c = eks6.carve(v["parent"], v["new_len"])
        assert len(c) == v["count"] == eks6.subnet_count(v["parent"], v["new_len"])
        for n, want in v["nth"].items():
            assert c[int(n)] == want == eks6.nth_subnet(v["parent"], v["new_len"], int(n))
            assert c[int(n) - v["count"]] == want
    for v in vectors["carve_invalid"]:
        with pytest.raises(eks6.AddressError):
            eks6.nth_subnet(v["parent"], v["new_len"], v.get("n", 0)) if v["new_len"] <= 255 else eks6.carve(v["parent"], 255)


def test_contains_aggregate_url_vectors(vectors):
    for v in vectors["contains"]:
        assert eks6.contains(v["prefix"], v["addr"]) is v["expect"]
    for v in vectors["aggregate"]:
        assert eks6.aggregate(v["input"]) == v["output"]
    for v in vectors["bracketed_url"]:
        assert eks6.bracketed_url(v["host"], port=v["port"], scheme=v["scheme"], path=v["path"]) == v["url"]


def test_carve_is_a_lazy_sequence():
    c = eks6.carve("2600:1f13:812::/64", 80)
    assert c[1:3] == ["2600:1f13:812:0:1::/80", "2600:1f13:812:0:2::/80"]
    assert c[-1] == "2600:1f13:812:0:ffff::/80"
    assert list(c)[:2] == c[:2]
    # Iteration makes the texts a chunk at a time: across chunks, and lazily when huge.
    assert list(c)[1023:1026] == c[1023:1026] == ["2600:1f13:812:0:3ff::/80", "2600:1f13:812:0:400::/80", "2600:1f13:812:0:401::/80"]
    wide = eks6.carve("2600::/16", 40)
    it = iter(wide)
    assert [next(it) for _ in range(3)] == wide[:3] == ["2600::/40", "2600:0:100::/40", "2600:0:200::/40"]
    with pytest.raises(IndexError):
        c[65536]
    huge = eks6.carve("::/0", 128)
    with pytest.raises(OverflowError, match="subnet_count"):
        len(huge)
    assert eks6.subnet_count("::/0", 128) == 2**128
    assert eks6.subnet_count("::/0", 64) == 2**64
    assert huge[2**100] == eks6.nth_subnet("::/0", 128, 2**100)
    assert next(iter(huge)) == "::/128"
    # Indexes anywhere in 2^128 (and 2^127) subnets, from either end.
    assert huge[-1] == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"
    assert huge[2**128 - 1] == huge[-1] and huge[-(2**127)] == "8000::/128"
    half = eks6.carve("::/1", 128)
    assert half[-1] == "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" and half[2**127 - 1] == half[-1]
    for bad in (2**128, -(2**128) - 1):
        with pytest.raises((IndexError, OverflowError)):
            huge[bad]
    with pytest.raises(IndexError):
        half[2**127]
    with pytest.raises(IndexError):
        c[-65537]


def test_allocator_and_table():
    a = eks6.PrefixAllocator("2600:1f13:812::/56", used=["2600:1f13:812::/64"])
    assert a.allocate(64) == "2600:1f13:812:1::/64"
    a.release("2600:1f13:812:1::/64")
    assert a.allocate(64) == "2600:1f13:812:1::/64"
    full = eks6.PrefixAllocator(ipaddress.IPv6Network("2600::/64"))
    full.allocate(64)
    with pytest.raises(eks6.ExhaustedError):
        full.allocate(80)
    t = eks6.PrefixTable()
    t["2600:1f13:812::/64"] = "subnet"
    t[ipaddress.IPv6Network("2600:1f13:812:0:46f9::/80")] = {"node": 1}
    assert t.lookup("2600:1f13:812:0:46f9::1") == {"node": 1}
    assert t.lookup_many(["2600:1f13:812::5", "2700::1"]) == ["subnet", None]
    assert len(t) == 2


def test_exception_hierarchy():
    for cls in [eks6.AddressError, eks6.ExhaustedError, eks6.PlanError, eks6.AwsError, eks6.ThrottledError,
                eks6.NotFoundError, eks6.ConflictError, eks6.TimeoutError]:
        assert issubclass(cls, eks6.Eks6Error)
    assert issubclass(eks6.AddressError, ValueError) and issubclass(eks6.PlanError, ValueError)
    assert issubclass(eks6.TimeoutError, TimeoutError) and issubclass(eks6.TimeoutError, eks6.AwsError)
    for cls in [eks6.ThrottledError, eks6.NotFoundError, eks6.ConflictError]:
        assert issubclass(cls, eks6.AwsError)
    with pytest.raises(TypeError):
        eks6.canonical(12)


addresses = st.one_of(
    st.integers(0, 2**128 - 1),
    st.integers(0, 2**32 - 1).map(lambda v: (0xFFFF << 32) | v),
    st.lists(st.sampled_from([0, 0, 1, 0xFFFF, 0x2600]), min_size=8, max_size=8).map(lambda g: int("".join(f"{x:04x}" for x in g), 16)),
).map(ipaddress.IPv6Address)


@settings(max_examples=500, deadline=None)
@given(addresses)
def test_canonical_matches_ipaddress(a):
    text = eks6.canonical(str(a))
    if a.ipv4_mapped is not None:
        # eks6 writes IPv4-mapped addresses dotted (RFC 5952 section 5); Python, in hex.
        assert text == f"::ffff:{a.ipv4_mapped}"
    else:
        assert text == a.compressed
    assert eks6.expanded(a) == a.exploded
    assert eks6.reverse_name(a) == a.reverse_pointer + "."
    assert ipaddress.IPv6Address(text) == a


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**128 - 1), st.integers(0, 128), st.integers(0, 10), st.integers(0, 2**20))
def test_carve_nth_contains_match_ipaddress(bits, plen, extra, n):
    net = ipaddress.IPv6Network((bits, plen), strict=False)
    new_len = min(plen + extra, 128)
    count = 2 ** (new_len - plen)
    assert eks6.subnet_count(net, new_len) == count
    i = n % count
    theirs = next(s for k, s in enumerate(net.subnets(new_prefix=new_len)) if k == i) if count <= 1024 else None
    if theirs is not None:
        assert eks6.nth_subnet(net, new_len, i) == str(theirs)
        assert list(eks6.carve(net, new_len)) == [str(s) for s in net.subnets(new_prefix=new_len)]
    addr = ipaddress.IPv6Address(bits)
    assert eks6.contains(net, addr) == (addr in net)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**16 - 1), st.integers(100, 112)), max_size=30))
def test_aggregate_matches_collapse(items):
    nets = [ipaddress.IPv6Network(((0x2600 << 112) | (x << 16), l), strict=False) for x, l in items]
    assert eks6.aggregate(nets) == [str(n) for n in ipaddress.collapse_addresses(nets)]


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=60))
def test_garbage_never_crashes(s):
    for f in (eks6.canonical, eks6.expanded, eks6.reverse_name):
        try:
            f(s)
        except eks6.AddressError:
            pass
    try:
        eks6.carve(s, 64)
    except eks6.AddressError:
        pass
    try:
        eks6.bracketed_url(s, port=80)
    except eks6.AddressError:
        pass


def test_every_error_kind_maps_to_its_class():
    """The core's error table names a class of eks6.errors for every kind; the one
    conversion (to_pyerr) makes that class, with the kind's name on it."""
    kinds = eks6._eks6._error_kinds()
    assert len(kinds) == len({code for code, _, _ in kinds}) >= 27
    for code, name, cls_name in kinds:
        exc = eks6._eks6._error_of_kind(code)
        assert type(exc) is getattr(eks6, cls_name), (name, cls_name, type(exc))
        assert isinstance(exc, eks6.Eks6Error) and exc.kind == name
        assert cls_name in eks6.errors.__all__
    by_name = {name: cls for _, name, cls in kinds}
    assert by_name["invalid_argument"] == "ArgumentError" and issubclass(eks6.ArgumentError, ValueError)
    assert by_name["aws_quota"] == "QuotaError" and issubclass(eks6.QuotaError, eks6.AwsError)
    assert not issubclass(eks6.QuotaError, eks6.ThrottledError)


def test_bad_values_are_address_errors_not_type_or_overflow_errors():
    with pytest.raises(eks6.AddressError) as e:
        eks6.canonical("::1\udcff")
    assert e.value.offset == 3
    with pytest.raises(eks6.AddressError, match="port -1 is not in 1..=65535"):
        eks6.bracketed_url("::1", port=-1)
    with pytest.raises(eks6.AddressError, match="port 70000"):
        eks6.bracketed_url("::1", port=70000)
    with pytest.raises(TypeError, match="not one str"):
        eks6.aggregate("::/1")
    with pytest.raises(TypeError, match="not one str"):
        eks6.PrefixAllocator("2600::/56", used="2600::/64")
    with pytest.raises(eks6.AddressError, match='"-1"'):
        eks6.carve("2600::/56", -1)
    with pytest.raises(eks6.AddressError):
        eks6.subnet_count("2600::/56", 2**70)
    with pytest.raises(eks6.ArgumentError, match="count from 0"):
        eks6.nth_subnet("2600::/56", 64, -1)
    assert eks6.aggregate(["::/1", "8000::/1"]) == ["::/0"]
    assert eks6.bracketed_url("::1", path="/?x=[y]") == "http://[::1]/?x=%5By%5D"
