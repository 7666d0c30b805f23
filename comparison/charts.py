"""The report's charts, drawn with matplotlib as inline SVG: no script, no network, one file.

Each function takes parts of `report.json` (or the run's `timings/samples.jsonl` entries) and returns an
`<svg>` element with a title, labelled axes with units and a legend; text stays text (searchable, and
the browser's fonts draw it). The same inputs give the same SVG.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from comparison.monitor import PROCESS_TITLES
from comparison.paths import TITLES

COLORS = {"firehose_lambda": "#d9822b", "kinesis_glue": "#2b6cb0"}
SIZE_STYLES = {200: "-", 1024: "--", 5120: ":"}
PART_TITLES = {
    "kinesis_put": "Kinesis put",
    "firehose_poll": "Firehose poll",
    "processor_buffer": "processor buffer",
    "lambda": "Lambda",
    "delivery_buffer_and_put": "delivery buffer and S3 put",
    "wait_for_micro_batch": "wait for the micro-batch",
    "micro_batch": "micro-batch",
}
WIDTH_IN, HEIGHT_IN = 8.0, 4.2


def svg_of(figure) -> str:
    """The figure as an inline `<svg>` element (closed afterwards)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "etl-showdown"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    # The XML prologue and DOCTYPE do not belong inside an HTML page.
    return text[text.index("<svg") :]


def new_figure(title: str):
    """A figure with one titled, gridded axes, at the report's chart size."""
    figure, axes = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    axes.set_title(title, fontsize=12, loc="left")
    axes.grid(True, which="major", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    return figure, axes


def _seconds(value: float, _position: Any = None) -> str:
    if value >= 1:
        return f"{value:.3g} s"
    return f"{value * 1000:.3g} ms"


def latency_cdf(samples: dict[str, Sequence[float]]) -> str:
    """Empirical CDF of send-to-visible latency per path, on a log time axis, p50 and p99 marked."""
    figure, axes = new_figure("Latency, send to visible in the sink (empirical CDF)")
    drawn = False
    for path, title in TITLES.items():
        values = sorted(v for v in samples.get(path, []) if v > 0)
        if not values:
            continue
        drawn = True
        n = len(values)
        axes.step(values, [(i + 1) / n for i in range(n)], where="post", color=COLORS[path], label=title)
        for q, marker in ((0.5, "o"), (0.99, "^")):
            value = values[max(0, math.ceil(q * n) - 1)]
            axes.plot([value], [q], marker=marker, color=COLORS[path], markersize=7, linestyle="none")
            axes.annotate(
                f"p{round(q * 100)} {_seconds(value)}",
                (value, q),
                textcoords="offset points",
                xytext=(8, -4 if q == 0.5 else -14),
                fontsize=9,
                color=COLORS[path],
            )
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(FuncFormatter(_seconds))
    axes.set_xlabel("latency (seconds, log scale)")
    axes.set_ylabel("fraction of delivered records")
    axes.set_ylim(0, 1.02)
    if drawn:
        axes.legend(loc="lower right")
    else:
        axes.text(0.5, 0.5, "no latency samples", transform=axes.transAxes, ha="center")
    return svg_of(figure)


def latency_parts(paths: dict[str, Any]) -> str:
    """The median of each latency part, stacked, one panel per path (each on its own time scale)."""
    figure, panels = plt.subplots(len(TITLES), 1, figsize=(WIDTH_IN, 1.6 * len(TITLES) + 1.2))
    figure.suptitle("Where the time goes: median of each latency part", fontsize=12, x=0.02, ha="left")
    colors = plt.get_cmap("tab10").colors
    for panel, path in zip(panels, TITLES, strict=True):
        left = 0.0
        parts = (paths.get(path, {}).get("latency_parts_s") or {}).items()
        for index, (part, figures) in enumerate(parts):
            value = figures.get("p50") or 0.0
            panel.barh(
                0,
                value,
                left=left,
                color=colors[index % len(colors)],
                edgecolor="white",
                label=f"{PART_TITLES.get(part, part)} ({_seconds(value) if value else '0'})",
            )
            left += value
        panel.set_yticks([])
        # On AWS the Firehose path is not split per record: the services report its parts as metrics instead.
        title = f"{_seconds(left)} in all" if left else "not split per record in this run (see the services' figures)"
        panel.set_title(f"{TITLES[path]}: {title}", fontsize=10, loc="left")
        panel.xaxis.set_major_formatter(FuncFormatter(_seconds))
        panel.set_xlabel("seconds")
        panel.grid(True, axis="x", color="#dddddd")
        panel.set_axisbelow(True)
        if left:
            panel.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    figure.tight_layout()
    return svg_of(figure)


def progress(samples: Sequence[dict[str, Any]]) -> str:
    """Records produced and delivered by each path over the run, and each path's backlog."""
    figure, axes = new_figure("Progress over the run: records delivered and backlog")
    times = [s["t_s"] for s in samples]
    counts = [s["counts"] for s in samples]
    produced = [c.get("produced", 0) for c in counts]
    axes.plot(times, produced, color="#555555", linewidth=1.5, label="produced")
    series = {
        "firehose_lambda": [c.get("firehose_processed", 0) for c in counts],
        "kinesis_glue": [c.get("glue_records", 0) for c in counts],
    }
    for path, done in series.items():
        axes.plot(times, done, color=COLORS[path], linewidth=2, label=f"{TITLES[path]}: processed")
        backlog = [max(0, p - d) for p, d in zip(produced, done, strict=True)]
        axes.plot(times, backlog, color=COLORS[path], linestyle="--", linewidth=1.2, label=f"{TITLES[path]}: backlog")
    axes.set_xlabel("seconds since the run started")
    axes.set_ylabel("records")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes.legend(loc="upper left", fontsize=8)
    return svg_of(figure)


def memory(samples: Sequence[dict[str, Any]]) -> str:
    """Resident memory of each process over the run."""
    figure, axes = new_figure("Memory per process (RSS)")
    names = sorted({name for s in samples for name in (s.get("rss_mb") or {})})
    for name in names:
        points = [(s["t_s"], s["rss_mb"][name]) for s in samples if (s.get("rss_mb") or {}).get(name) is not None]
        axes.plot([t for t, _ in points], [v for _, v in points], linewidth=1.8, label=PROCESS_TITLES.get(name, name))
    axes.set_xlabel("seconds since the run started")
    axes.set_ylabel("RSS (MB)")
    axes.set_ylim(bottom=0)
    if names:
        axes.legend(loc="lower right", fontsize=8)
    return svg_of(figure)


def log_log(axes, y_label: str, y_prefix: str = "") -> None:
    """Both axes logarithmic with plain thousands-separated ticks; x is events per second."""
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{y_prefix}{v:,.0f}"))
    axes.set_xlabel("events per second (log scale)")
    axes.set_ylabel(y_label)


def cost_sweep(cost: dict[str, Any]) -> str:
    """Monthly cost of each path against throughput for each record size, the crossovers marked."""
    figure, axes = new_figure("Monthly cost against throughput (us-east-1 list prices)")
    points = cost["model"]["sweep"]["points"]
    for size in sorted({p["record_size_bytes"] for p in points}):
        series = [p for p in points if p["record_size_bytes"] == size]
        label_size = f"{size:,} B" if size < 1024 else f"{size / 1024:g} KB"
        for path in TITLES:
            axes.plot(
                [p["events_per_s"] for p in series],
                [p[f"{path}_usd"] for p in series],
                color=COLORS[path],
                linestyle=SIZE_STYLES.get(size, "-."),
                linewidth=1.8,
                label=f"{TITLES[path]}, {label_size} records",
            )
    found = []
    for crossover in cost["crossovers"]:
        at = crossover["events_per_s"]
        if at:
            axes.axvline(at, color="#888888", linestyle=(0, (1, 3)), linewidth=1)
            found.append(f"{crossover['record_bytes']:,} B records at {at:,.0f} events/s")
    if found:
        axes.text(
            0.98,
            0.03,
            "the cheaper path changes:\n" + "\n".join(found),
            transform=axes.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            color="#444444",
            bbox={"facecolor": "white", "edgecolor": "#cccccc"},
        )
    log_log(axes, "USD per month (log scale)", "$")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, ncol=2, frameon=False)
    return svg_of(figure)
