"""Writes tests/c/vectors.h from tests/vectors/ipv6.json for the C tests."""
import json
import sys


def c(s):
    return json.dumps(s)


def main(src, dst):
    v = json.load(open(src))
    out = ["/* Generated from shared/vectors/ipv6.json by tests/c/vectors.py; do not edit. */",
           "#include <stdbool.h>", "#include <stdint.h>", "#include <stddef.h>", ""]
    out.append("static const struct { const char *input, *canonical, *expanded, *reverse; } CANONICAL[] = {")
    out += [f"    {{{c(x['input'])}, {c(x['canonical'])}, {c(x['expanded'])}, {c(x['reverse'])}}}," for x in v["canonical"]]
    out.append("};")
    out.append("static const char *INVALID[] = {")
    out += [f"    {c(x['input'])}," for x in v["invalid_addresses"]]
    out.append("};")
    out.append("static const struct { const char *parent; uint8_t new_len; uint64_t count; uint64_t n; const char *nth; } CARVE[] = {")
    for x in v["carve"]:
        for n, nth in x["nth"].items():
            out.append(f"    {{{c(x['parent'])}, {x['new_len']}, {x['count']}u, {n}u, {c(nth)}}},")
    out.append("};")
    out.append("static const struct { const char *parent; uint8_t new_len; uint64_t n; const char *why; } CARVE_INVALID[] = {")
    for x in v["carve_invalid"]:
        new_len = min(x["new_len"], 255)
        out.append(f"    {{{c(x['parent'])}, {new_len}, {x.get('n', 0)}u, {c(x['why'])}}},")
    out.append("};")
    out.append("static const struct { const char *prefix, *addr; bool expect; } CONTAINS[] = {")
    out += [f"    {{{c(x['prefix'])}, {c(x['addr'])}, {'true' if x['expect'] else 'false'}}}," for x in v["contains"]]
    out.append("};")
    for i, x in enumerate(v["aggregate"]):
        out.append(f"static const char *AGG_IN_{i}[] = {{{', '.join(c(p) for p in x['input'])}}};")
    out.append("static const struct { const char *const *input; size_t input_len; const char *output; } AGGREGATE[] = {")
    for i, x in enumerate(v["aggregate"]):
        out.append(f"    {{AGG_IN_{i}, {len(x['input'])}, {c(chr(10).join(x['output']))}}},")
    out.append("};")
    out.append("static const struct { const char *scheme, *host; int32_t port; const char *path, *url; } URLS[] = {")
    for x in v["bracketed_url"]:
        port = -1 if x["port"] is None else x["port"]
        out.append(f"    {{{c(x['scheme'])}, {c(x['host'])}, {port}, {c(x['path'])}, {c(x['url'])}}},")
    out.append("};")
    open(dst, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
