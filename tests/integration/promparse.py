#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A strict parser of Prometheus' text exposition format (version 0.0.4), stdlib only.

usage: promparse.py FILE [NAME[=VALUE] ...]
Parses FILE (the body of /metrics), fails on any line the format does not allow, on a
sample whose family has no TYPE, on a counter that is negative or not named *_total, and on
duplicate series; then checks that each NAME is present (and equals VALUE when given, or
matches "NAME{labels}" exactly). Prints "N families, M samples" on success.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
SAMPLE = re.compile(rf"^({NAME})(\{{(.*)\}})?[ \t]+(\S+)([ \t]+-?\d+)?$")
LABEL_PAIR = re.compile(rf'\s*({LABEL})="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')
TYPES = {"counter", "gauge", "summary", "histogram", "untyped"}


def parse_labels(text, lineno):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL_PAIR.match(text, pos)
        if not m:
            raise ValueError(f"line {lineno}: bad labels {{{text}}}")
        if m.group(1) in labels:
            raise ValueError(f"line {lineno}: label {m.group(1)} twice")
        labels[m.group(1)] = m.group(2).replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        pos = m.end()
    return labels


def parse_value(text, lineno):
    if text in ("NaN", "+Inf", "-Inf"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"line {lineno}: value {text!r} is not a float") from None


def family_of(name, types):
    for suffix in ("", "_total", "_sum", "_count", "_bucket", "_created"):
        if suffix and not name.endswith(suffix):
            continue
        base = name[: len(name) - len(suffix)] if suffix else name
        if base in types:
            return base
    return None


def parse(text):
    types, helps, samples = {}, {}, {}
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                if not re.fullmatch(NAME, parts[2]):
                    raise ValueError(f"line {lineno}: bad metric name {parts[2]!r}")
                if parts[1] == "TYPE":
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ValueError(f"line {lineno}: bad TYPE line")
                    if parts[2] in types:
                        raise ValueError(f"line {lineno}: second TYPE for {parts[2]}")
                    types[parts[2]] = parts[3]
                else:
                    helps[parts[2]] = parts[3] if len(parts) > 3 else ""
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"line {lineno}: not a sample: {line!r}")
        name, labels = m.group(1), parse_labels(m.group(3) or "", lineno)
        value = parse_value(m.group(4), lineno)
        family = family_of(name, types)
        if family is None:
            raise ValueError(f"line {lineno}: {name} has no TYPE")
        if types[family] == "counter":
            if not name.endswith("_total") or value < 0 or math.isnan(value):
                raise ValueError(f"line {lineno}: bad counter sample {line!r}")
        key = (name, tuple(sorted(labels.items())))
        if key in samples:
            raise ValueError(f"line {lineno}: duplicate series {line!r}")
        samples[key] = value
    return types, samples


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        types, samples = parse(text)
    except ValueError as e:
        print(f"promparse: {e}", file=sys.stderr)
        return 1
    for want in sys.argv[2:]:
        name, value = (want, "") if want.endswith("}") else want.rpartition("=")[::2]
        if not name:
            name, value = value, ""
        found = [v for (n, l), v in samples.items()
                 if n == name or n + "{" + ",".join(f'{k}="{x}"' for k, x in l) + "}" == name]
        if not found:
            print(f"promparse: no sample {name}", file=sys.stderr)
            return 1
        if value and float(value) != found[0]:
            print(f"promparse: {name} is {found[0]}, not {value}", file=sys.stderr)
            return 1
    print(f"{len(types)} families, {len(samples)} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
