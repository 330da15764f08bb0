#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Sources: the shared address vectors (tests/vectors/*.json, the copy in the repository,
or the file named by EKS6_VECTORS, as the Rust and C tests read them), the plan files
tests/fixtures/*.toml, and a few hand-written inputs for paths the vectors do not
reach. One input per file, named by the SHA-1 of its content as libFuzzer names its
own, so running this again adds nothing twice and leaves what the fuzzer found.

Usage: python3 fuzz/seed.py [--vectors DIR_OR_FILE]... (stdlib only)
"""

import argparse
import hashlib
import json
import os
import sys
import tomllib
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
CORPUS = FUZZ / "corpus"
TARGETS = ("parse_addr", "parse_prefix", "url", "plan")

# The url target's piece separator (see fuzz_targets/url.rs).
SEP = "\n"

# Seeds taken from one vector file, at most, per target.
MAX_PER_FILE = 150

# Keys whose string values are not address or prefix text.
SKIP_KEYS = {"about", "why", "reverse", "url", "scheme", "path"}

EXTRA_ADDRS = [
    "::", "::1", "1::", "::ffff:0.0.0.0", "::ffff:255.255.255.255", "::1.2.3.4",
    "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:0:0:1:0:0:0:1",
    "0:0:0:0:0:fffe:0:0", "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF",
    # Rejected forms: each reason the parser knows.
    "1:2:3:4:5:6:7:8::", "1:2:3:4::5:6:7:8", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5",
    "::1.2.3.4.5", "::ffé", "fe80::1%eth0", "1:::2", ":", "1", "g", "::1.2.3",
    "::00.1.2.3", "::1.2.3.0004", "1" * 40, "1:" * 20,
]

EXTRA_PREFIXES = [
    "::/0", "::1/128", "2600:1f13:812::/56", "2600:1f13:812::1/56", "::/129", "::/",
    "::/064", "::/1a", "::/-1", "::/1/2", "2600::1 /64", "::ffff:10.0.0.0/104",
    "2600:1f13:812::/56 ",
]

# (scheme, host, port or None, path)
EXTRA_URLS = [
    ("http", "fe80::1%eth0", 8080, "/"),
    ("http", "fe80::1%a/b", None, "/"),
    ("http", "fe80::1%en 0", None, "/"),
    ("HTTP", "example.com", 80, "/a?b=c"),
    ("http", "::1", None, "/\u00e9"),
    ("http", "::1", 65535, "/"),
    ("http", "::1", 65536, "/"),
    ("http", "::1", 0, "/"),
    ("http", "[::1]", None, "/"),
    ("http", "::1", None, "x"),
    ("1http", "::1", None, "/"),
    ("http", "-bad.example", None, "/"),
    ("http", "999.1.1.1", None, "/"),
    ("svn+ssh", "node-1.internal.", 22, "/repo"),
    ("http", "::ffff:192.0.2.1", 80, "/"),
    ("http", "::1%", None, "/"),
]


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    p = d / hashlib.sha1(data).hexdigest()
    if p.exists():
        return 0
    p.write_bytes(data)
    return 1


def url_seed(scheme, host, port, path):
    return SEP.join([scheme, host, "" if port is None else str(port), path])


def walk(value, key, section, out):
    """Collects address and prefix text and URL pieces from a vector document.

    `section` is the top-level key (`canonical`, `invalid_addresses`, ...): text with a
    '/' goes to parse_addr only from an address section, where it is a rejected form.
    """
    if isinstance(value, dict):
        if {"scheme", "host", "path"} <= value.keys():
            out["url"].append(url_seed(value["scheme"], value["host"], value.get("port"), value["path"]))
        for k, v in value.items():
            walk(v, k, section or k, out)
    elif isinstance(value, list):
        for v in value:
            walk(v, key, section, out)
    elif isinstance(value, str) and key not in SKIP_KEYS and len(value) <= 100:
        if "/" not in value or "addr" in (section or ""):
            out["parse_addr"].append(value)
        if "/" in value:
            out["parse_prefix"].append(value)


def vector_files(args):
    if args:
        paths = args
    elif os.environ.get("EKS6_VECTORS"):
        paths = [os.environ["EKS6_VECTORS"]]
    else:
        paths = [REPO / "tests" / "vectors"]
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.glob("*.json")))
        elif p.is_file():
            files.append(p)
        else:
            print(f"seed.py: no vectors at {p}; using the built-in seeds only", file=sys.stderr)
    return files


def plan_seeds():
    seeds = []
    for f in sorted((REPO / "tests" / "fixtures").glob("*.toml")):
        text = f.read_text()
        seeds.append(text)
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            print(f"seed.py: {f} is not TOML ({e}); kept as text only", file=sys.stderr)
            continue
        seeds.append(json.dumps(doc, indent=2))
        # Variants that reach other rules and the address plan's other paths.
        vpc = dict(doc.get("vpc", {}))
        variants = [
            {"vpc": {**vpc, "availability_zones": ["us-west-2a", "usw2-az2", "us-west-2a"]}},
            {"vpc": {**vpc, "availability_zones": 3, "ipv4_cidr": "10.0.0.0/24", "ipv4_subnet_len": 28,
                     "nat_gateways": "per_az", "dns64": True}},
            {"vpc": {**vpc, "id": "vpc-0123abcd", "subnet_ids": ["subnet-0123456789abcdef0"],
                     "enable_auto_assign_ipv6": True}},
            {"vpc": {**vpc, "public_subnets": False, "private_subnets": False}},
            # Just outside the bounds the rules check, and at the edges of the types.
            {"vpc": {**vpc, "ipv4_subnet_len": 29, "availability_zones": 255}},
            {"vpc": {**vpc, "ipv4_subnet_len": 15, "ipv4_cidr": "10.0.0.1/8"}},
            {"vpc": {**vpc, "ipv4_subnet_len": 0, "availability_zones": 0}},
            {"vpc": {**vpc, "ipv4_subnet_len": 255}},
            {"nodegroup": {**doc.get("nodegroup", {}), "desired_size": 4294967295, "min_size": 0,
                           "max_size": 4294967295}},
            {"probe": {"port": 4294967295, "allow_from": "::/0"}},
            {"cluster": {"ip_family": "ipv4", "service_ipv4_cidr": "10.100.0.0/16", "vpc_cni_version": "v1.9.0",
                         "endpoint_public_access": False, "endpoint_private_access": False}},
            {"probe": {"port": 0, "allow_from": "2600:1f13::1/32"}},
            {"tags": {"team": "net", "cost center": "42"}},
        ]
        for v in variants:
            seeds.append(json.dumps({**doc, **v}, indent=2))
    seeds.append(
        'name = "c"\nregion = "us-west-2"\nkubernetes_version = "1.35"\n'
        '[iam]\ncluster_role = "arn:aws:iam::123456789012:role/A"\n'
        'node_role = "arn:aws:iam::123456789012:role/B"\n[access]\nadmins = ["arn:aws:iam::123456789012:user/u"]\n'
        '[nodegroup]\nname = "ng"\n'
    )
    return seeds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", action="append", default=[],
                    help="a vector file or a directory of them (default tests/vectors)")
    args = ap.parse_args()

    out = {t: [] for t in TARGETS}
    for f in vector_files(args.vectors):
        found = {t: [] for t in TARGETS}
        walk(json.loads(f.read_text()), None, None, found)
        for t, seeds in found.items():
            # Long lists of near-identical prefixes (an aggregate of 256 /64s) add
            # nothing after the first few.
            out[t] += list(dict.fromkeys(seeds))[:MAX_PER_FILE]
    out["parse_addr"] += EXTRA_ADDRS
    out["parse_prefix"] += EXTRA_PREFIXES
    # Every address also as a prefix of a few lengths, and as a URL host.
    for a in list(out["parse_addr"]):
        if "/" not in a and ":" in a:
            out["parse_prefix"] += [f"{a}/{n}" for n in (0, 56, 64, 128)]
            out["url"].append(url_seed("http", a, 80, "/healthz"))
    out["url"] += [url_seed(*u) for u in EXTRA_URLS]
    out["plan"] += plan_seeds()

    for t in TARGETS:
        new = sum(write(t, s) for s in dict.fromkeys(out[t]))
        total = len(list((CORPUS / t).iterdir())) if (CORPUS / t).is_dir() else 0
        print(f"seed.py: {t}: {new} new seed(s), {total} file(s) in {CORPUS / t}")


if __name__ == "__main__":
    main()
