#!/usr/bin/env python3
"""The tables of tools/bench/scaling from a run's directory (its `results` file and each run's
guest output in runs/): python3 scaling_table.py OUT.

Everything read here came out of a guest (the `scale ...` lines of tools/bench/scale_guest.c)
or out of the kvm-in-qemu guest's driver, so every line is checked before it counts: a run
counts only when its VMM ended well and its guest printed exactly one well-formed line whose
numbers agree with each other; the others are listed under the tables as failed runs.
The doctests are run by ctest (BenchScaling.Doctests).
"""
import os
import re
import statistics
import sys

NUMBER = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")   # no sign, exponent, nan or inf
MAX_LINE = 4096
KEYS = {
    "exits": ("cpus", "iters", "wall_ns", "rate", "ns"),
    "blk": ("disks", "seconds", "wall_ns", "iops", "mbps", "per_disk_iops"),
}
LISTS = {"ns", "per_disk_iops"}
INTS = {"cpus", "iters", "wall_ns", "disks", "seconds"}


def close(a, b, rel=0.01):
    """Whether a and b agree within rel of the larger (the guest prints rounded figures).

    >>> close(100.0, 100.5), close(100.0, 102.0), close(0.0, 0.0)
    (True, False, True)
    """
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-9


def number(text, integer):
    """A plain decimal of the guest's, or None.

    >>> number("12", True), number("12.5", False), number("12.5", True)
    (12, 12.5, None)
    >>> [number(t, False) for t in ("-1", "1e9", "nan", "inf", "", "1.", "0x10", "9" * 16)]
    [None, None, None, None, None, None, None, None]
    """
    if not NUMBER.fullmatch(text) or (integer and "." in text):
        return None
    return int(text) if integer else float(text)


def parse_scale(text, kind, n):
    """The figures of the one `scale KIND ...` line in a run's guest output `text`, for N
    threads (vCPUs or disks), or None when there is no such line, more than one, or one whose
    keys, counts or numbers do not add up.

    >>> out = "boot noise\\nscale exits cpus=2 iters=10 wall_ns=2000 rate=10000000.0 ns=100.0,150.5\\n"
    >>> parse_scale(out, "exits", 2)
    {'cpus': 2, 'iters': 10, 'wall_ns': 2000, 'rate': 10000000.0, 'ns': [100.0, 150.5]}
    >>> parse_scale(out, "exits", 4) is None                  # not the VM's vCPU count
    True
    >>> parse_scale(out.replace("rate=1", "rate=9"), "exits", 2) is None   # rate != work / time
    True
    >>> parse_scale(out.replace(",150.5", ""), "exits", 2) is None         # a thread missing
    True
    >>> parse_scale(out + out, "exits", 2) is None            # two lines: which one?
    True
    >>> parse_scale(out.replace("iters=10", "iters=10 iters=10"), "exits", 2) is None
    True
    >>> parse_scale(out.replace("ns=100.0", "ns=nan"), "exits", 2) is None
    True
    >>> parse_scale(out.replace("wall_ns=2000", "wall_ns=0"), "exits", 2) is None
    True
    >>> parse_scale(out.replace("\\n", " \\x00\\xff extra=1\\n"), "exits", 2) is None
    True
    >>> parse_scale("scale exits " + "x" * 100000, "exits", 2) is None
    True
    >>> parse_scale("scale blk disks=2 seconds=3 wall_ns=3000000000 iops=300.0 mbps=1.23 "
    ...             "per_disk_iops=100.0,200.0", "blk", 2)["mbps"]
    1.23
    >>> parse_scale("scale blk disks=2 seconds=3 wall_ns=3000000000 iops=300.0 mbps=5.00 "
    ...             "per_disk_iops=100.0,200.0", "blk", 2) is None   # 300 IOPS of 4 KiB != 5 MB/s
    True
    >>> parse_scale("", "blk", 1) is None
    True
    """
    lines = [line for line in text.split("\n") if line.startswith(f"scale {kind} ")]
    if len(lines) != 1 or len(lines[0]) > MAX_LINE:
        return None
    words = lines[0].rstrip("\r").split(" ")[2:]
    keys = KEYS[kind]
    if len(words) != len(keys):
        return None
    figures = {}
    for word, key in zip(words, keys):
        name, eq, value = word.partition("=")
        if name != key or not eq:
            return None
        if key in LISTS:
            items = [number(v, False) for v in value.split(",")]
            if len(items) != n or None in items:
                return None
            figures[key] = items
        else:
            v = number(value, key in INTS)
            if v is None:
                return None
            figures[key] = v
    if figures["wall_ns"] == 0:
        return None
    seconds = figures["wall_ns"] / 1e9
    if kind == "exits":
        ok = (figures["cpus"] == n and figures["iters"] > 0 and
              close(figures["rate"], n * figures["iters"] / seconds))
    else:
        ok = (figures["disks"] == n and close(figures["iops"], sum(figures["per_disk_iops"])) and
              close(figures["mbps"], figures["iops"] * 4096 / 1e6))
    return figures if ok else None


def read_results(text):
    """The driver's lines `ROW N VMM ROUND EXIT SECONDS`, checked, as tuples, and the runs
    that started (`start ROW N VMM ROUND`) but have no such line: the kvm-in-qemu guest
    stopped during them. Other lines are skipped.

    >>> read_results("exits 2 qemu 1 0 12.5\\nexits x qemu 1 0 1\\nblk 4 minivmm 3 124 240\\n"
    ...              "exits 2 other 1 0 1\\nexits 2 qemu 1 0\\n")
    ([('exits', 2, 'qemu', 1, 0, 12.5), ('blk', 4, 'minivmm', 3, 124, 240.0)], [])
    >>> read_results("start blk 1 qemu 1\\nblk 1 qemu 1 0 7.5\\nstart blk 4 minivmm 5\\nstart x\\n")
    ([('blk', 1, 'qemu', 1, 0, 7.5)], [('blk', 4, 'minivmm', 5)])
    """
    rows, started = [], []
    for line in text.split("\n"):
        w = line.split()
        start = len(w) == 5 and w[0] == "start"
        if start:
            w = w[1:] + ["0", "0"]
        if len(w) != 6 or w[0] not in KEYS or w[2] not in ("minivmm", "qemu"):
            continue
        n, rnd, rc, secs = number(w[1], True), number(w[3], True), number(w[4], True), number(w[5], False)
        if None in (n, rnd, rc, secs) or not 1 <= n <= 64:
            continue
        if start:
            started.append((w[0], n, w[2], rnd))
        else:
            rows.append((w[0], n, w[2], rnd, rc, secs))
    ended = {r[:4] for r in rows}
    return rows, [s for s in started if s not in ended]


def run_ok(vmm, rc, out):
    """Whether a run ended well: minivmm with CMD's status 0; QEMU (which gets no status from
    the init) powered off, exit 0, after the job printed `scale-status 0`.

    >>> run_ok("minivmm", 0, ""), run_ok("minivmm", 117, "")
    (True, False)
    >>> run_ok("qemu", 0, "scale x\\nscale-status 0\\n"), run_ok("qemu", 0, "scale-status 1\\n")
    (True, False)
    """
    if vmm == "minivmm":
        return rc == 0
    return rc == 0 and "scale-status 0" in out.split("\n")


def collect(results, outputs):
    """{(row, n, vmm): {round: figures}} and the failed runs, from the driver's lines and a
    function giving each run's guest output (warm-up rounds, 0, left out).

    >>> line = "scale exits cpus=1 iters=10 wall_ns=1000 rate=10000000.0 ns=100.0\\n"
    >>> got, failed = collect([("exits", 1, "minivmm", 1, 0, 5.0), ("exits", 1, "qemu", 1, 124, 240.0),
    ...                        ("exits", 1, "minivmm", 0, 0, 5.0)], lambda *key: line)
    >>> got[("exits", 1, "minivmm")][1]["rate"], failed
    (10000000.0, ['exits 1 qemu round 1: exit 124 after 240 s, no valid `scale` line'])
    """
    got, failed = {}, []
    for row, n, vmm, rnd, rc, secs in results:
        if rnd == 0:
            continue
        out = outputs(row, n, vmm, rnd)
        figures = parse_scale(out, row, n) if run_ok(vmm, rc, out) else None
        if figures is None:
            failed.append(f"{row} {n} {vmm} round {rnd}: exit {rc} after {secs:g} s, "
                          "no valid `scale` line")
        else:
            got.setdefault((row, n, vmm), {})[rnd] = figures
    return got, failed


def cell(xs, fmt):
    """Median [min-max] of xs, or '-'.

    >>> cell([3.0, 1.0, 2.0], "{:.1f}"), cell([], "{:.1f}")
    ('2.0 [1.0-3.0]', '-')
    """
    if not xs:
        return "-"
    return f"{fmt.format(statistics.median(xs))} [{fmt.format(min(xs))}-{fmt.format(max(xs))}]"


def tables(got, failed):
    """The Markdown tables of both parts (those with results) and the failed runs.

    >>> line = "scale exits cpus={n} iters=10 wall_ns={w} rate={r:.1f} ns={ns}\\n"
    >>> got = {("exits", n, v): {1: parse_scale(line.format(n=n, w=w, r=n * 10 / w * 1e9,
    ...        ns=",".join(["100.0"] * n)), "exits", n)}
    ...        for n, v, w in ((1, "minivmm", 1000), (2, "minivmm", 1000), (1, "qemu", 2000),
    ...                        (2, "qemu", 4000))}
    >>> print("\\n".join(tables(got, [])))   # doctest: +NORMALIZE_WHITESPACE
    | vCPUs | µs per exit, minivmm | µs per exit, QEMU | exits/s, minivmm | exits/s, QEMU | minivmm / QEMU exits/s (pairs) | minivmm exits/s / 1 vCPU's | QEMU exits/s / 1 vCPU's |
    |---|---|---|---|---|---|---|---|
    | 1 | 0.10 [0.10-0.10] | 0.10 [0.10-0.10] | 10000000 [10000000-10000000] | 5000000 [5000000-5000000] | 2.00 [2.00-2.00] | 1.00 | 1.00 |
    | 2 | 0.10 [0.10-0.10] | 0.10 [0.10-0.10] | 20000000 [20000000-20000000] | 5000000 [5000000-5000000] | 4.00 [4.00-4.00] | 2.00 | 1.00 |
    """
    lines = []
    parts = (
        ("exits", "vCPUs",
         [("µs per exit", lambda f: statistics.mean(f["ns"]) / 1e3, "{:.2f}"),
          ("exits/s", lambda f: f["rate"], "{:.0f}")], 1),
        ("blk", "disks",
         [("MB/s", lambda f: f["mbps"], "{:.2f}"), ("IOPS", lambda f: f["iops"], "{:.0f}")], 0),
    )
    for row, what, columns, ratio_of in parts:
        ns = sorted({n for (r, n, _) in got if r == row})
        if not ns:
            continue
        head = [what]
        for name, _, _ in columns:
            head += [f"{name}, minivmm", f"{name}, QEMU"]
        rname = columns[ratio_of][0]
        head += [f"minivmm / QEMU {rname} (pairs)", f"minivmm {rname} / 1 {what[:-1]}'s",
                 f"QEMU {rname} / 1 {what[:-1]}'s"]
        if lines:
            lines.append("")
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        base = {}
        for n in ns:
            runs = {v: got.get((row, n, v), {}) for v in ("minivmm", "qemu")}
            cells = [str(n)]
            for _, get, fmt in columns:
                for v in ("minivmm", "qemu"):
                    cells.append(cell([get(f) for f in runs[v].values()], fmt))
            get = columns[ratio_of][1]
            pairs = [get(runs["minivmm"][r]) / get(runs["qemu"][r])
                     for r in sorted(runs["minivmm"]) if r in runs["qemu"] and get(runs["qemu"][r])]
            cells.append(cell(pairs, "{:.2f}"))
            for v in ("minivmm", "qemu"):
                xs = [get(f) for f in runs[v].values()]
                if n == ns[0] and xs:
                    base[v] = statistics.median(xs)
                ok = xs and ns[0] == 1 and base.get(v)
                cells.append(f"{statistics.median(xs) / base[v]:.2f}" if ok else "-")
            lines.append("| " + " | ".join(cells) + " |")
    if failed:
        lines += ["", f"Failed runs ({len(failed)}):", *[f"- {f}" for f in failed]]
    return lines


def read_results_file(out):
    try:
        with open(os.path.join(out, "results"), "rb") as f:
            return read_results(f.read(1 << 20).decode("utf-8", "replace"))
    except OSError:
        return [], []


def main(out):
    def outputs(row, n, vmm, rnd):
        path = os.path.join(out, "runs", f"{row}-{n}-{vmm}-{rnd}.out")
        try:
            with open(path, "rb") as f:
                return f.read(1 << 20).decode("utf-8", "replace")
        except OSError:
            return ""
    results, unfinished = read_results_file(out)
    got, failed = collect(results, outputs)
    failed += [f"{row} {n} {vmm} round {rnd}: never finished (the kvm-in-qemu guest stopped "
               "during it: see its log)" for row, n, vmm, rnd in unfinished]
    lines = tables(got, failed)
    print("\n".join(lines) if lines else "(no results)")
    return 0 if got else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
