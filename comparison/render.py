"""report.json as Markdown (report.md) and as one self-contained HTML page with SVG charts (report.html)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from comparison.monitor import PROCESS_TITLES
from comparison.study.claims import claims_markdown

PATH_TITLES = {"firehose_lambda": "Firehose + Lambda", "kinesis_glue": "Kinesis + Glue streaming"}
COLORS = {"firehose_lambda": "#d9822b", "kinesis_glue": "#2b6cb0"}
SIZE_DASH = {200: "", 1024: "6 3", 5120: "2 3"}


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _capability_cell(entry: dict[str, Any]) -> str:
    if not entry["expressible"]:
        return f"cannot express ({entry['note']})"
    if entry["fraction"] is None:
        return f"expressible, nothing to compare ({entry['note']})"
    return f"{entry['matched']:,}/{entry['expected']:,} match ({entry['fraction']:.1%}; {entry['note']})"


def _driver_lines(driver: dict[str, Any]) -> list[str]:
    if driver.get("name") != "locust":
        return []
    return [
        "",
        f"Produced by {driver['users']} locust users: {driver['requests']:,} put_records calls, "
        f"{driver['failures']:,} refused in whole or part (and retried), "
        f"call time median {_fmt(driver['median_ms'], 0)} ms, p99 {_fmt(driver['p99_ms'], 0)} ms "
        f"(locust's statistics: `{driver.get('csv', 'load/')}`)"
        + ("." if driver.get("complete") else "; it did NOT send the whole workload before its time limit."),
    ]


def _memory_lines(resources: dict[str, Any]) -> list[str]:
    peaks = resources.get("peak_rss_mb") or {}
    if not peaks:
        return []
    text = "; ".join(f"{PROCESS_TITLES.get(name, name)} {value:,.0f} MB" for name, value in peaks.items())
    return ["", f"Peak memory (RSS, sampled every {resources['sample_every_s']:g} s; `timings/samples.jsonl`): {text}."]


def _response_lines(firehose: dict[str, Any]) -> list[str]:
    response = firehose.get("response")
    if not response:
        return []
    largest = response["largest_processor_buffer_mb"]
    verdict = "fits" if firehose["processor_buffer_mb"] <= largest else "does NOT fit: the overflow fails"
    return [
        "",
        f"Lambda response: this workload's records grow {response['ratio']:.2f}x from raw to the Lambda's answer; "
        f"the largest processor buffer whose full batch stays under 6 MB is {largest:g} MB (this run: "
        f"{firehose['processor_buffer_mb']:g} MB, {verdict}).",
    ]


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    run = report["run"]
    lines = [
        "# Firehose + Lambda vs Kinesis + Glue streaming: measured",
        "",
        f"Run: mode `{run['mode']}`, profile `{run['profile']}`, started {run['started_at']}, "
        f"{run['duration_s']} s in all; {run['produced']['total']:,} records produced in {run['production_s']} s "
        f"({', '.join(f'{k} {v:,}' for k, v in run['produced']['by_kind'].items())}).",
        *_driver_lines(run.get("driver") or {}),
        *_memory_lines(run.get("resources") or {}),
        *_response_lines((run.get("settings") or {}).get("firehose") or {}),
        "",
        "## Counts and latency (send to visible in the sink)",
        "",
        "| | " + " | ".join(PATH_TITLES[p] for p in PATH_TITLES) + " |",
        "|---|---|---|",
    ]
    paths = report["paths"]
    names = sorted({k for p in paths.values() for k in p["counts"]})
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_fmt(paths[p]["counts"].get(name)) for p in PATH_TITLES) + " |")
    for q in ("p50", "p90", "p99", "max"):
        lines.append(f"| latency {q} (s) | " + " | ".join(_fmt(paths[p]["latency_s"][q]) for p in PATH_TITLES) + " |")
    lines.append(
        "| start-up to first batch (s) | n/a (invoked on demand) | "
        + _fmt(paths["kinesis_glue"].get("startup_s"), 1)
        + " |"
    )
    lines += ["", "Latency split into its parts (p50 / p99, seconds):", ""]
    for path in PATH_TITLES:
        parts = paths[path]["latency_parts_s"]
        text = "; ".join(f"{k} {_fmt(v['p50'])} / {_fmt(v['p99'])}" for k, v in parts.items())
        lines.append(f"- {PATH_TITLES[path]}: {text}")
    lines += ["", "## Capabilities, against a ground truth computed from the input", ""]
    lines += ["| capability | Firehose + Lambda | Kinesis + Glue streaming |", "|---|---|---|"]
    for cap in report["capabilities"]:
        cells = [_capability_cell(cap["firehose_lambda"]), _capability_cell(cap["kinesis_glue"])]
        lines.append(f"| {cap['title']} | " + " | ".join(cells) + " |")
    cost = report["cost"]
    inputs = cost["measured_inputs"]
    lines += [
        "",
        f"## Monthly cost at the measured workload ({cost['region']}, prices as of {cost['pricing_date']})",
        "",
        f"Workload: {inputs['events_per_s']:.1f} events/s of {inputs['record_bytes']} bytes; Lambda "
        f"{inputs['lambda_ms_per_record']:.4f} ms per record (measured); Glue "
        f"{inputs['glue_events_per_s_per_worker']:.0f} events/s per worker "
        f"({inputs['glue_events_per_s_per_worker_source']}).",
        "",
    ]
    for path in PATH_TITLES:
        total = cost["monthly_usd"][path]
        parts = ", ".join(f"{k} ${v:,.2f}" for k, v in total["breakdown"].items())
        lines.append(f"- {PATH_TITLES[path]}: **${total['total']:,.2f}** per month ({parts})")
    lines += ["", "Where the cheaper path changes (throughput sweep 10 to 100,000 events/s):", ""]
    for crossover in cost["crossovers"]:
        at = crossover["events_per_s"]
        where = f"about {at:,.0f} events/s" if at is not None else "no change in the range"
        lines.append(f"- {crossover['record_bytes']:,}-byte records: {where}")
    lines += ["", "Arithmetic of each line:", ""]
    for path in PATH_TITLES:
        for line in cost["model"]["paths"][path]["lines"]:
            lines.append(f"- {PATH_TITLES[path]}, {line['service']}: {line['arithmetic']} ({line['status']})")
    lines += ["", f"Prices: {', '.join(cost['pricing_source'])}", "", claims_markdown(report["claims"], "en"), ""]
    return "\n".join(lines)


def _histogram(samples: dict[str, list[float]], width: int = 640, height: int = 220) -> str:
    values = [v for series in samples.values() for v in series]
    if not values:
        return "<p>No latency samples.</p>"
    top = max(values) or 1.0
    bins = 30
    step = top / bins
    bar = (width - 60) / bins / len(samples)
    counts = {p: [0] * bins for p in samples}
    for path, series in samples.items():
        for v in series:
            counts[path][min(bins - 1, int(v / step))] += 1
    peak = max(max(c) for c in counts.values()) or 1
    parts = [f'<svg width="{width}" height="{height + 30}" xmlns="http://www.w3.org/2000/svg">']
    for i, path in enumerate(samples):
        for b, n in enumerate(counts[path]):
            h = n / peak * height
            x = 50 + b * bar * len(samples) + i * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLORS[path]}"><title>{PATH_TITLES[path]}: {n}</title></rect>'
            )
    parts.append(f'<text x="50" y="{height + 20}" font-size="12">0 s</text>')
    parts.append(f'<text x="{width - 60}" y="{height + 20}" font-size="12">{top:.1f} s</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cost_chart(cost: dict[str, Any], width: int = 640, height: int = 300) -> str:
    points = cost["model"]["sweep"]["points"]
    if not points:
        return "<p>No sweep.</p>"
    xs = [p["events_per_s"] for p in points]
    ys = [p[k] for p in points for k in ("firehose_lambda_usd", "kinesis_glue_usd") if p[k] > 0]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.log10(min(ys)), math.log10(max(ys))

    def sx(x: float) -> float:
        return 60 + (math.log10(x) - x0) / (x1 - x0 or 1) * (width - 80)

    def sy(y: float) -> float:
        return height - 30 - (math.log10(max(y, 10**y0)) - y0) / (y1 - y0 or 1) * (height - 50)

    parts = [f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for size in sorted({p["record_size_bytes"] for p in points}):
        series = [p for p in points if p["record_size_bytes"] == size]
        for path, key in (("firehose_lambda", "firehose_lambda_usd"), ("kinesis_glue", "kinesis_glue_usd")):
            coords = " ".join(f"{sx(p['events_per_s']):.1f},{sy(p[key]):.1f}" for p in series)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{COLORS[path]}" '
                f'stroke-dasharray="{SIZE_DASH.get(size, "")}"><title>{PATH_TITLES[path]}, '
                f"{size} B</title></polyline>"
            )
    for crossover in cost["crossovers"]:
        if crossover["events_per_s"]:
            x = sx(crossover["events_per_s"])
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="10" y2="{height - 30}" stroke="#888" '
                f'stroke-dasharray="1 3"><title>crossover, {crossover["record_bytes"]} B: '
                f"{crossover['events_per_s']:,.0f} events/s</title></line>"
            )
    parts.append(f'<text x="60" y="{height - 10}" font-size="12">{min(xs):,.0f} events/s</text>')
    parts.append(f'<text x="{width - 140}" y="{height - 10}" font-size="12">{max(xs):,.0f} events/s</text>')
    parts.append(f'<text x="5" y="20" font-size="12">${10**y1:,.0f}/month</text>')
    parts.append(f'<text x="5" y="{height - 30}" font-size="12">${10**y0:,.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_page(report: dict[str, Any]) -> str:
    """The report as one HTML page: Markdown text, a latency histogram, the cost sweep, the capability matrix."""
    legend = " ".join(f'<span style="color:{COLORS[p]}">&#9632; {PATH_TITLES[p]}</span>' for p in PATH_TITLES)
    body = html.escape(markdown(report))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>ETL showdown report</title>"
        "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto}pre{white-space:pre-wrap}</style>"
        "</head><body><h1>Firehose + Lambda vs Kinesis + Glue streaming</h1>"
        f"<p>{legend}</p><h2>Latency distribution (send to visible)</h2>"
        f"{_histogram(report['latency_samples_s'])}"
        "<h2>Monthly cost against throughput (solid 200 B, dashed 1 KB, dotted 5 KB; grey: crossovers)</h2>"
        f"{_cost_chart(report['cost'])}"
        f"<h2>Full report</h2><pre>{body}</pre></body></html>"
    )


def write_report(out: Path, report: dict[str, Any]) -> None:
    """Write report.json, report.md and report.html into the run folder."""
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    (out / "report.md").write_text(markdown(report))
    (out / "report.html").write_text(html_page(report))
