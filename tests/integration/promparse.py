#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A strict parser of Prometheus' text exposition format (version 0.0.4), stdlib only.

usage: promparse.py FILE [SELECTOR ...]
Parses FILE (the body of /metrics) and fails on any line the format does not allow: a sample
whose family has no TYPE, a TYPE or HELP given twice or after the family's samples, a
family's samples not all together, a counter that is negative or not named *_total, an
escape other than \\\\, \\" and \\n in a label value (\\\\ and \\n in HELP), duplicate series,
and a histogram whose series are not each a set of _bucket samples with an le label (a float),
cumulative counts that never decrease as le grows, a le="+Inf" bucket, and _sum and _count
samples with _count equal to the +Inf bucket (no other sample name in a histogram family).
Then checks each SELECTOR, one of
  NAME                   some series is called NAME
  NAME{l="v",...}        some series NAME carries these labels (and maybe others)
  SELECTOR=VALUE         exactly one series matches, and its value is VALUE
  SELECTOR#N             exactly N series match
so 'camgate_frames_captured_total{camera="main"}=30' or 'camgate_http_requests_total#1'.
Prints "N families, M samples" on success.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
SAMPLE = re.compile(rf"^({NAME})(\{{(.*)\}})?[ \t]+(\S+)([ \t]+-?\d+)?$")
LABEL_PAIR = re.compile(rf'\s*({LABEL})="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')
SELECTOR = re.compile(rf'^({NAME})(?:\{{(.*)\}})?(?:([=#])([^=#{{}}"]+))?$')
TYPES = {"counter", "gauge", "summary", "histogram", "untyped"}
UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def unescape(text):
    return re.sub(r'\\[\\"n]', lambda m: UNESCAPE[m.group(0)], text)


def parse_labels(text, where):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL_PAIR.match(text, pos)
        if not m:
            raise ValueError(f"{where}: bad labels {{{text}}}")
        if m.group(1) in labels:
            raise ValueError(f"{where}: label {m.group(1)} twice")
        labels[m.group(1)] = unescape(m.group(2))
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


class Parser:
    def __init__(self):
        self.types, self.helps, self.samples = {}, {}, {}
        self.current = None  # the family whose samples come now
        self.closed = set()  # families whose samples are over

    def comment(self, line, lineno):
        parts = line.split(None, 3)
        if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
            return
        kind, name = parts[1], parts[2]
        if not re.fullmatch(NAME, name):
            raise ValueError(f"line {lineno}: bad metric name {name!r}")
        if name == self.current or name in self.closed:
            raise ValueError(f"line {lineno}: {kind} for {name} after its samples")
        if kind == "TYPE":
            if len(parts) != 4 or parts[3] not in TYPES:
                raise ValueError(f"line {lineno}: bad TYPE line")
            if name in self.types:
                raise ValueError(f"line {lineno}: second TYPE for {name}")
            self.types[name] = parts[3]
            return
        if name in self.helps:
            raise ValueError(f"line {lineno}: second HELP for {name}")
        text = parts[3] if len(parts) > 3 else ""
        if re.search(r"\\(?![\\n])", text):
            raise ValueError(f"line {lineno}: bad escape in HELP for {name}")
        self.helps[name] = text

    def sample(self, line, lineno):
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"line {lineno}: not a sample: {line!r}")
        name, labels = m.group(1), parse_labels(m.group(3) or "", f"line {lineno}")
        value = parse_value(m.group(4), lineno)
        family = family_of(name, self.types)
        if family is None:
            raise ValueError(f"line {lineno}: {name} has no TYPE")
        if family != self.current:
            if family in self.closed:
                raise ValueError(f"line {lineno}: samples of {family} are not together")
            if self.current is not None:
                self.closed.add(self.current)
            self.current = family
        if self.types[family] == "counter":
            if not name.endswith("_total") or value < 0 or math.isnan(value):
                raise ValueError(f"line {lineno}: bad counter sample {line!r}")
        key = (name, tuple(sorted(labels.items())))
        if key in self.samples:
            raise ValueError(f"line {lineno}: duplicate series {line!r}")
        self.samples[key] = value


def check_histograms(types, samples):
    """Raises ValueError unless every histogram family is well formed (see the usage)."""
    series = {}  # (family, labels without le) -> {"buckets": [(le, v)], "sum": v, "count": v}
    for (name, labels), value in samples.items():
        family = family_of(name, types)
        if types.get(family) != "histogram":
            continue
        suffix = name[len(family):]
        rest = tuple((k, v) for k, v in labels if k != "le")
        entry = series.setdefault((family, rest), {"buckets": []})
        if suffix == "_bucket":
            le = dict(labels).get("le")
            if le is None:
                raise ValueError(f"{name}{dict(labels)}: a bucket without le")
            try:
                bound = parse_value(le, 0)
            except ValueError:
                raise ValueError(f"{name}{dict(labels)}: le {le!r} is not a float") from None
            if math.isnan(bound) or value < 0 or math.isnan(value):
                raise ValueError(f"{name}{dict(labels)}: bad bucket")
            entry["buckets"].append((bound, value))
        elif suffix in ("_sum", "_count") and "le" not in dict(labels):
            entry[suffix[1:]] = value
        else:
            raise ValueError(f"{name}: not a sample a histogram may have")
    for (family, rest), entry in series.items():
        what = f"{family}{dict(rest)}"
        buckets = sorted(entry["buckets"])
        if not buckets or buckets[-1][0] != math.inf:
            raise ValueError(f"{what}: no le=\"+Inf\" bucket")
        if any(b[1] < a[1] for a, b in zip(buckets, buckets[1:])):
            raise ValueError(f"{what}: bucket counts decrease as le grows")
        if "sum" not in entry or "count" not in entry:
            raise ValueError(f"{what}: _sum or _count missing")
        if entry["count"] != buckets[-1][1]:
            raise ValueError(f"{what}: _count is not the +Inf bucket")


def parse(text):
    p = Parser()
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            p.comment(line, lineno)
        else:
            p.sample(line, lineno)
    check_histograms(p.types, p.samples)
    return p.types, p.samples


def check(samples, want):
    """Returns None when the selector WANT holds, else why not."""
    m = SELECTOR.match(want)
    if not m:
        return f"bad selector {want!r}"
    name, op, arg = m.group(1), m.group(3), m.group(4)
    try:
        labels = parse_labels(m.group(2) or "", f"selector {want!r}")
    except ValueError as e:
        return str(e)
    found = [(l, v) for (n, l), v in samples.items()
             if n == name and all(dict(l).get(k) == x for k, x in labels.items())]
    what = name + ("{" + m.group(2) + "}" if m.group(2) is not None else "")
    if op == "#":
        if not arg.isdigit() or len(found) != int(arg):
            return f"{len(found)} series match {what}, not {arg}"
        return None
    if not found:
        return f"no sample {what}"
    if op == "=":
        if len(found) != 1:
            return f"{len(found)} series match {what}, so its value is ambiguous"
        try:
            expected = float(arg)
        except ValueError:
            return f"bad value {arg!r} in {want!r}"
        if expected != found[0][1] and not (math.isnan(expected) and math.isnan(found[0][1])):
            return f"{what} is {found[0][1]}, not {arg}"
    return None


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        types, samples = parse(text)
    except ValueError as e:
        print(f"promparse: {e}", file=sys.stderr)
        return 1
    for want in sys.argv[2:]:
        error = check(samples, want)
        if error:
            print(f"promparse: {error}", file=sys.stderr)
            return 1
    print(f"{len(types)} families, {len(samples)} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
