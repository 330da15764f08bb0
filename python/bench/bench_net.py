"""eks6 beside the standard library's ipaddress, in one run, on the same inputs.

Run with the release wheel (`make bench-python`); prints a Markdown table.
"""

import ipaddress
import random
import sys
import timeit

import eks6


def best_pair(ours, theirs, number, repeat=7):
    """Best time of each, the two measured in turns so that both see the same machine."""
    o = t = float("inf")
    for _ in range(repeat):
        o = min(o, timeit.timeit(ours, number=number) / number)
        t = min(t, timeit.timeit(theirs, number=1))
    return o, t


def main():
    rnd = random.Random(42)
    rows = []

    net = "2600:1f13:812::/64"
    assert list(eks6.carve(net, 80)) == [str(n) for n in ipaddress.IPv6Network(net).subnets(new_prefix=80)]
    ours, theirs = best_pair(
        lambda: list(eks6.carve(net, 80)), lambda: list(ipaddress.IPv6Network(net).subnets(new_prefix=80)), 5
    )
    rows.append(("list(carve('/64', 80)), 65,536 subnets", ours, theirs, "list(IPv6Network.subnets(new_prefix=80))", 20))

    base = 0x2600_1F13_0812_0000 << 64
    texts = [str(ipaddress.IPv6Address(base | rnd.getrandbits(64))) for _ in range(10_000)]
    ours, theirs = best_pair(lambda: [eks6.canonical(s) for s in texts], lambda: [str(ipaddress.IPv6Address(s)) for s in texts], 5)
    rows.append(("canonical text of 10,000 addresses", ours, theirs, "str(IPv6Address(s))", 10))

    nodes = sorted({(base | (s << 64) | (rnd.getrandbits(16) << 48)) for s in range(100) for _ in range(100)})
    table = eks6.PrefixTable()
    by_len = {80: {}, 64: {}}
    for i, n in enumerate(nodes):
        table[str(ipaddress.IPv6Network((n, 80)))] = i
        by_len[80][n >> 48] = i
    for s in range(100):
        table[str(ipaddress.IPv6Network((base | (s << 64), 64)))] = -s
        by_len[64][(base | (s << 64)) >> 64] = -s
    queries = [str(ipaddress.IPv6Address(nodes[rnd.randrange(len(nodes))] | rnd.getrandbits(16))) for _ in range(100_000)]

    def pure_python(qs):
        out = []
        for q in qs:
            a = int(ipaddress.IPv6Address(q))
            v = by_len[80].get(a >> 48)
            if v is None:
                v = by_len[64].get(a >> 64)
            out.append(v)
        return out

    assert table.lookup_many(queries[:1000]) == pure_python(queries[:1000])
    ours, theirs = best_pair(lambda: table.lookup_many(queries), lambda: pure_python(queries), 1, repeat=5)
    rows.append(("PrefixTable.lookup_many, 100,000 addresses in 10,000 /80s", ours, theirs,
                 "dict per prefix length, longest first (int(IPv6Address) and shifts)", None))

    print(f"Python {sys.version.split()[0]}, eks6 {eks6.__version__}")
    print("| operation | eks6 | baseline | baseline is | ratio | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, o, t, what, target in rows:
        ratio = t / o
        tgt = f">= {target}x" if target else "-"
        print(f"| {name} | {o * 1e3:.2f} ms | {t * 1e3:.2f} ms | {what} | {ratio:.1f}x faster | {tgt} |")
        if target and ratio < target:
            print(f"  below target: {name}", file=sys.stderr)


if __name__ == "__main__":
    main()
