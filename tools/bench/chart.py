#!/usr/bin/env python3
"""The chart of tools/bench/results.md (tools/bench/run draws it after the guest-path sections):
from the tables of the sections blk-guest and net-guest, per row, each VMM's throughput as a
fraction of the raw limit, and its host CPU per request as a multiple of the raw loop's (all
threads; then besides the vCPU), minivmm and both QEMU columns side by side. Drawn by gnuplot
(Debian's gnuplot-nox), as a PNG.

  tools/bench/chart.py RESULTS_MD OUT_PNG

The parsing and the arithmetic are checked by `python3 -m doctest tools/bench/chart.py` (a
ctest test).
"""
import os
import re
import subprocess
import sys
import tempfile

VMMS = ["minivmm", "QEMU", "QEMU best"]
SECTIONS = [("blk-guest", "disk"), ("net-guest", "net")]


def section(text, name):
    """The text between <!-- begin NAME --> and <!-- end NAME -->, or ''.

    >>> section("a <!-- begin x -->\\nbody\\n<!-- end x --> b", "x")
    '\\nbody\\n'
    >>> section("nothing", "x")
    ''
    """
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    if begin not in text or end not in text:
        return ""
    return text[text.index(begin) + len(begin):text.index(end)]


def tables(text):
    """The Markdown tables of `text`: a list of (header cells, rows of cells).

    >>> tables("x\\n| a | b |\\n|---|---|\\n| 1 | 2 |\\n\\n| c |\\n|---|\\n| 3 |\\n")
    [(['a', 'b'], [['1', '2']]), (['c'], [['3']])]
    """
    out, current = [], None
    for line in text.split("\n"):
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current is None:
            current = (cells, [])
            out.append(current)
        elif not all(re.fullmatch(r"-+", c) for c in cells):
            current[1].append(cells)
    return out


def number(cell, bracket=False):
    """The leading number of a cell ("2.00 [0.50]" -> 2.0), or its number in brackets; None
    for "n/a" and the like.

    >>> number("2.00 [0.50]"), number("2.00 [0.50]", bracket=True), number("0.93")
    (2.0, 0.5, 0.93)
    >>> number("n/a"), number("1.20", bracket=True), number("6759 [6423-6961]", bracket=True)
    (None, None, None)
    """
    m = re.fullmatch(r"\s*([0-9.]+)(?:\s*\[([0-9.]+)\])?\s*", cell)
    if not m:
        return None
    value = m.group(2) if bracket else m.group(1)
    return float(value) if value else None


def rows(text, prefix):
    """Per table row of a section: (label, {vmm: fraction of raw}, {vmm: CPU all / raw's},
    {vmm: CPU besides the vCPU / raw's}), from its throughput table (columns "VMM / raw") and
    its CPU table (first header "host CPU per ...: all threads [besides the vCPU]", a "raw"
    column, cells "ALL [BESIDES]"). A VMM without a column is left out.

    >>> t = ("| workload | raw MB/s | minivmm / raw | QEMU / raw | kicks |\\n|---|---|---|---|---|\\n"
    ...      "| 4 KiB read | 100 | 0.50 | 0.25 | 0 |\\n\\n"
    ...      "| host CPU per request, µs: all threads [besides the vCPU] | raw | minivmm | QEMU |\\n"
    ...      "|---|---|---|---|\\n| 4 KiB read | 2.00 | 5.00 [3.00] | n/a |\\n")
    >>> rows(t, "disk")
    [('disk: 4 KiB read', {'minivmm': 0.5, 'QEMU': 0.25}, {'minivmm': 2.5}, {'minivmm': 1.5})]
    """
    fraction, cpu_all, cpu_other, order = {}, {}, {}, []
    for head, body in tables(text):
        norm = [re.sub(r"\s*/\s*", " / ", h) for h in head]
        if head[0].startswith("host CPU per") and "all threads" in head[0] and "raw" in head:
            raw_col = head.index("raw")
            for r in body:
                raw = number(r[raw_col])
                for v in VMMS:
                    if v not in head or not raw:
                        continue
                    cell = r[head.index(v)]
                    if number(cell) is not None:
                        cpu_all.setdefault(r[0], {})[v] = number(cell) / raw
                    if number(cell, bracket=True) is not None:
                        cpu_other.setdefault(r[0], {})[v] = number(cell, bracket=True) / raw
        elif any(h.endswith(" / raw") for h in norm):
            for r in body:
                order.append(r[0])
                for v in VMMS:
                    if f"{v} / raw" in norm:
                        value = number(r[norm.index(f"{v} / raw")])
                        if value is not None:
                            fraction.setdefault(r[0], {})[v] = value
    return [(f"{prefix}: {label}", fraction.get(label, {}), cpu_all.get(label, {}),
             cpu_other.get(label, {})) for label in order]


def short(label):
    """A row label short enough for the x axis.

    >>> short("disk: 4 KiB random read, 1 in flight"), short("net: receive, 1514-byte frames")
    ('disk 4K rand read QD1', 'net rx 1514 B')
    """
    for a, b in [(": ", " "), ("4 KiB", "4K"), ("64 KiB", "64K"), ("random", "rand"),
                 ("sequential", "seq"), (", 1 in flight", " QD1"), ("transmit,", "tx"),
                 ("receive,", "rx"), ("-byte frames", " B")]:
        label = label.replace(a, b)
    return label


def draw(results_md, out_png):
    """Writes out_png from results_md; returns the number of rows drawn."""
    text = open(results_md).read()
    data = []
    for name, prefix in SECTIONS:
        data += rows(section(text, name), prefix)
    if not data:
        return 0
    work = tempfile.mkdtemp(prefix="bench-chart.")
    dat = os.path.join(work, "chart.dat")
    with open(dat, "w") as f:
        for label, fraction, cpu_all, cpu_other in data:
            cells = [f'"{short(label)}"']
            for series in (fraction, cpu_all, cpu_other):
                cells += [f"{series[v]:.4f}" if v in series else "?" for v in VMMS]
            f.write(" ".join(cells) + "\n")
    # The raw limit (1) always inside the plot, as a dashed line; CPU on a log scale.
    plots = []
    for i, title in enumerate(["throughput / raw limit (higher is better)",
                               "host CPU per request / raw loop's, all threads (lower is better)",
                               "host CPU per request / raw loop's, besides the vCPU "
                               "(lower is better)"]):
        values = [x for row in data for x in row[1 + i].values() if x > 0]
        if not values:   # older tables have no CPU column: no panel
            continue
        top = max(values + [1.0]) * 1.15
        scale = (f"set yrange [0:{top}]" if i == 0 else
                 f"set logscale y 2; set yrange [{min(values + [1.0]) / 1.5}:{top}]")
        plots.append((2 + 3 * i, title, scale))
    script = [
        f"set terminal pngcairo size 1000,{120 + 330 * len(plots)} font 'sans,9'",
        f"set output '{out_png}'",
        "set datafile missing '?'",
        "set style data histogram",
        "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.9",
        "set grid ytics",
        "set key top left horizontal",
        "set xtics rotate by -25 nomirror",
        f"set multiplot layout {len(plots)},1",
    ]
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    for col, title, extra in plots:
        script += [f"set title \"{title}\"", "unset logscale y", extra]
        script.append("set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 front")
        series = [f"'{dat}' using {col + i}:xtic(1) title '{v}' lc rgb '{colours[i]}'"
                  for i, v in enumerate(VMMS)]
        script.append("plot " + ", ".join(series))
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)
    return len(data)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: tools/bench/chart.py RESULTS_MD OUT_PNG")
    print(f"chart: {draw(sys.argv[1], sys.argv[2])} rows drawn to {sys.argv[2]}")
