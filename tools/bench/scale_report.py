"""The scale run's report: the markdown table and targets, and the plot
(a PNG, when matplotlib is importable: the tools stay stdlib-only; without
it the run says so and ``benchmark.py --plot-from results.json --plot
out.png`` draws it later from the run's JSON, wherever matplotlib is)."""

import json
import math
import os

from .common import log
from .servers import ADDON

PAGES = (10, 80, 500)
PLOT = os.path.join(ADDON, "docs", "benchmark_scale.png")
# The right-hand plot's lines: label -> the row's work (or how a deep page
# row's work ends).
SIZE_SERIES = {
    "page of 80": "search page of 80, 2 related fields",
    "page of 80, count=exact": "search page of 80, count=exact",
    "page of 80, count=estimated": "search page of 80, count=estimated",
    "page at 90 %, offset": "offset",
    "page at 90 %, cursor": "cursor",
    "bulk create of 1000 (REST)": "bulk create of 1000 (REST, full answer)",
}


def _fmt(value, pattern="{:.1f}"):
    return "-" if value is None else pattern.format(value)


def print_rows(rows):
    print(
        "| partners | work | p50 ms | mean ms | ms per record | queries/request "
        "| SQL ms/request | requests |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        per_record = row["p50"] / row["records"] if row.get("records") else None
        queries = row["queries"]
        if queries is not None and row["queries_min"] != row["queries_max"]:
            spread = f"{queries:.1f} ({row['queries_min']}-{row['queries_max']})"
        else:
            spread = _fmt(queries, "{:.0f}")
        print(
            f"| {row['size']:,} | {row['work']} | {row['p50']:.1f} | "
            f"{row['mean']:.1f} | {_fmt(per_record, '{:.3f}')} | {spread} | "
            f"{_fmt(row['sql_ms'])} | {row['n']} |"
        )


def print_report(data):
    print(f"\n### secure_api scale benchmark, {data['when']}\n")
    print(
        f"{data['version']}; {data['machine']}; the realistic API (forced domain, "
        "a default, an alias, country_id with 2 related fields, obfuscated ids); "
        f"{data['minutes']:.0f} min.\n"
    )
    print_rows(data["results"])
    print("\n| target | measured | goal | result |\n|---|---:|---|---|")
    for label, value, goal, ok in targets(data):
        print(f"| {label} | {value} | {goal} | {ok} |")
    notes = [
        f"{row['size']:,}: count={row['work'].rsplit('=', 1)[1]} answered "
        f"{row.get('length')} ({row.get('length_is')})"
        for row in data["results"]
        if "length" in row
    ]
    notes += [
        f"{row['size']:,}: the cursor page and the offset page differ"
        for row in data["results"]
        if row.get("same_page") is False
    ]
    for note in notes:
        print(f"- {note}")


def speed_up(label, slow, fast):
    """A target line: ``slow``'s p50 over ``fast``'s, goal >= 1.00."""
    ratio = slow["p50"] / fast["p50"]
    return (label, f"{ratio:.2f}", ">= 1.00", "met" if ratio >= 1.0 else "MISSED")


def targets(data):
    """(label, measured, goal, verdict) of the scale run."""
    out = []
    by = {(row["size"], row["work"]): row for row in data["results"]}
    sizes = sorted({row["size"] for row in data["results"]})
    pages = [
        by.get((size, f"search page of {page}, 2 related fields"))
        for size in sizes
        for page in PAGES
    ]
    counts = [row["queries"] for row in pages if row and row["queries"] is not None]
    if counts:
        out.append(
            (
                "queries per search request (median), pages of 10/80/500, every size",
                f"{min(counts)}-{max(counts)}",
                "flat",
                "met" if max(counts) == min(counts) else "MISSED",
            )
        )
    for size in sizes:
        exact = by.get((size, "search page of 80, count=exact"))
        estimated = by.get((size, "search page of 80, count=estimated"))
        if exact and estimated:
            label = f"{size:,}: count=estimated vs exact (speed-up)"
            out.append(speed_up(label, exact, estimated))
        position = int(size * 0.9)
        offset = by.get((size, f"page of 80 at {position}, offset"))
        cursor = by.get((size, f"page of 80 at {position}, cursor"))
        if offset and cursor:
            label = f"{size:,}: cursor vs offset at {position:,} (speed-up)"
            out.append(speed_up(label, offset, cursor))
    if len(sizes) > 1:
        first = by.get((sizes[0], "search page of 80, 2 related fields"))
        last = by.get((sizes[-1], "search page of 80, 2 related fields"))
        if first and last:
            label = f"page of 80 at {sizes[-1]:,} vs at {sizes[0]:,} (time ratio)"
            out.append((label, f"{last['p50'] / first['p50']:.2f}", "info", "-"))
    return out


def plot_pages(axes, rows, sizes):
    """Left: time per request against page size, one line per table size."""
    for size in sizes:
        points = [
            (page, row["p50"])
            for page in PAGES
            for row in rows
            if row["size"] == size
            and row["work"] == f"search page of {page}, 2 related fields"
        ]
        if points:
            axes.plot(
                *zip(*points, strict=True), marker="o", label=f"{size:,} partners"
            )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(PAGES, [str(p) for p in PAGES])
    axes.set_xlabel("page size (records, 2 related fields)")
    axes.set_ylabel("ms per request (p50)")
    axes.set_title("Search: time per request against page size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()


def plot_sizes(axes, rows, sizes):
    """Right: time per request against table size, one line per work."""
    for label, work in SIZE_SERIES.items():
        deep = work in ("offset", "cursor")
        points = [
            (size, row["p50"])
            for size in sizes
            for row in rows
            if row["size"] == size
            and ((deep and row["work"].endswith(f", {work}")) or row["work"] == work)
        ]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("partners in the table")
    axes.set_ylabel("ms per request (p50)")
    axes.set_title("Time per request against table size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)


def minor(value, _position):
    """Label 2, 3 and 5 times a power of ten; leave the others blank."""
    lead = round(value / 10 ** math.floor(math.log10(value)))
    return f"{value:g}" if lead in (2, 3, 5) else ""


def plot(data, path):
    """Time per request against page size and against table size (PNG)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        log(
            "matplotlib is not installed: no plot. Install it (pip install "
            "matplotlib) and draw it from the JSON: python3 tools/benchmark.py "
            f"--plot-from <results.json> --plot {path}"
        )
        print("\nNo plot: matplotlib is not installed here.")
        return False
    rows = data["results"]
    sizes = sorted({row["size"] for row in rows})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    plot_pages(left, rows, sizes)
    plot_sizes(right, rows, sizes)
    for axis in (left.yaxis, right.yaxis):
        axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(matplotlib.ticker.FuncFormatter(minor))
    fig.suptitle(
        f"secure_api scale run, {data['version']}, {data['when']}", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log(f"plot written to {path}")
    return True


def plot_from(results_json, path):
    """``--plot-from``: the report and the plot of a saved run; 0 if drawn."""
    with open(results_json) as handle:
        data = json.load(handle)
    print_report(data)
    return 0 if plot(data, path or PLOT) else 1
