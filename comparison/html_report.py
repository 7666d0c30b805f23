"""report.html: the report as one self-contained web page (no script, no network), for a decision-maker.

Rendered from `report.json` and the run's `timings/samples.jsonl`: the counts table with aligned numbers, the
latency charts, progress and memory over the run, the capability matrix with clear marks, the monthly cost with
each line's arithmetic folded away, the cost sweep with its crossovers, and the seed note's claims judged.
Charts come from `comparison.charts` (matplotlib, inline SVG); every chart is a `<figure>` with a caption.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from comparison import charts
from comparison.paths import TITLES
from comparison.render import STARTUP_NONE, WARM_UP_ROW, fmt, run_notes, target
from comparison.study.claims import claims_data

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;width:100%}th,td{border:1px solid #ddd;padding:.35em .6em;
vertical-align:top}th{background:#f4f4f4;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}.yes{color:#1a7f37;font-weight:bold}.no{color:#b42318;font-weight:bold}.part{color:#9a6700;
font-weight:bold}figure{margin:1.2em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}
details{margin:.3em 0}summary{cursor:pointer}code{background:#f4f4f4;padding:0 .2em}.meta{color:#555}
.verdict-confirmed{color:#1a7f37}.verdict-contradicted{color:#b42318}.verdict-qualified{color:#9a6700}
"""


def _inline(text: str) -> str:
    """Escape text, then render the report lines' inline Markdown (`code`, **bold**)."""
    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def _paragraphs(lines: Sequence[str]) -> str:
    return "".join(f"<p>{_inline(line)}</p>" for line in lines if line.strip())


def _figure(chart_id: str, svg: str, caption: str) -> str:
    return f'<figure id="{chart_id}" class="chart">{svg}<figcaption>{_inline(caption)}</figcaption></figure>'


def _num(value: Any, digits: int = 2) -> str:
    return f'<td class="num">{html.escape(fmt(value, digits))}</td>'


def _counts_table(paths: dict[str, Any], warm_up: dict[str, float | None]) -> str:
    names = sorted({k for p in paths.values() for k in p["counts"]})
    head = "<tr><th></th>" + "".join(f"<th>{TITLES[p]}</th>" for p in TITLES) + "</tr>"
    rows = [
        f"<tr><th>{html.escape(n)}</th>" + "".join(_num(paths[p]["counts"].get(n)) for p in TITLES) + "</tr>"
        for n in names
    ]
    for q in ("p50", "p90", "p99", "max"):
        cells = "".join(_num(paths[p]["latency_s"][q]) for p in TITLES)
        rows.append(f"<tr><th>latency {q} (s)</th>{cells}</tr>")
    startup = "".join(
        _num(paths[p]["startup_s"], 1) if paths[p].get("startup_s") is not None else f"<td>{STARTUP_NONE}</td>"
        for p in TITLES
    )
    rows.append(f"<tr><th>start-up, launch to taking traffic (s)</th>{startup}</tr>")
    warm = "".join(_num(warm_up.get(p), 1) for p in TITLES)
    rows.append(f"<tr><th>{WARM_UP_ROW}</th>{warm}</tr>")
    return f"<table id='counts'>{head}{''.join(rows)}</table>"


def _capability_cell(entry: dict[str, Any]) -> str:
    note = html.escape(entry["note"])
    if not entry["expressible"]:
        return f'<td><span class="no">&#10007; cannot express</span><br><small>{note}</small></td>'
    if entry["fraction"] is None:
        return f'<td><span class="part">&#8212; nothing to compare</span><br><small>{note}</small></td>'
    mark, css = ("&#10003;", "yes") if entry["fraction"] == 1 else ("&#9888;", "part")
    return (
        f'<td><span class="{css}">{mark} {entry["matched"]:,}/{entry["expected"]:,} match '
        f"({entry['fraction']:.1%})</span><br><small>{note}</small></td>"
    )


def _capabilities(capabilities: list[dict[str, Any]]) -> str:
    head = "<tr><th>capability</th>" + "".join(f"<th>{TITLES[p]}</th>" for p in TITLES) + "</tr>"
    rows = [
        f"<tr><th>{html.escape(c['title'])}</th>" + "".join(_capability_cell(c[p]) for p in TITLES) + "</tr>"
        for c in capabilities
    ]
    return f"<table id='capabilities'>{head}{''.join(rows)}</table>"


def _cost(cost: dict[str, Any]) -> str:
    inputs = cost["measured_inputs"]
    parts = [
        f"<p>Workload: {inputs['events_per_s']:,.1f} events/s of {inputs['record_bytes']:,} bytes; Lambda "
        f"{inputs['lambda_ms_per_record']:.4f} ms per record (measured); Glue "
        f"{inputs['glue_events_per_s_per_worker']:,.0f} events/s per worker "
        f"({html.escape(inputs['glue_events_per_s_per_worker_source'])}).</p>",
        "<table id='cost'><tr><th>path</th><th>USD per month</th><th>lines (open for the arithmetic)</th></tr>",
    ]
    for path in TITLES:
        lines = "".join(
            f"<details><summary>{html.escape(line['service'])}: ${line['usd_per_month']:,.2f}</summary>"
            f"<code>{html.escape(line['arithmetic'])}</code> <small>({html.escape(line['status'])})</small></details>"
            for line in cost["model"]["paths"][path]["lines"]
        )
        parts.append(f"<tr><th>{TITLES[path]}</th>{_num(cost['monthly_usd'][path]['total'])}<td>{lines}</td></tr>")
    parts.append("</table>")
    crossings = "".join(
        f"<li>{c['record_bytes']:,}-byte records: "
        + (f"about {c['events_per_s']:,.0f} events/s" if c["events_per_s"] is not None else "no change in the range")
        + "</li>"
        for c in cost["crossovers"]
    )
    parts.append(f"<p>Where the cheaper path changes (throughput 10 to 100,000 events/s):</p><ul>{crossings}</ul>")
    sources = ", ".join(f'<a href="{html.escape(s)}">{html.escape(s)}</a>' for s in cost["pricing_source"])
    parts.append(f"<p class='meta'>Prices as of {html.escape(cost['pricing_date'])}: {sources}</p>")
    return "".join(parts)


def _claims(claims: list[dict[str, Any]]) -> str:
    data = claims_data()
    labels, lang = data["labels"], "en"
    head = "".join(
        f"<th>{html.escape(labels[n][lang])}</th>" for n in ("path", "side", "claim", "verdict", "conditions")
    )
    rows = []
    for claim in claims:
        verdict = claim["verdict"]
        rows.append(
            f"<tr><td>{html.escape(data['paths'][claim['path']][lang])}</td>"
            f"<td>{html.escape(labels[claim['side']][lang])}</td><td>{html.escape(claim['claim'][lang])}</td>"
            f"<td class='verdict-{verdict}'><strong>{html.escape(data['verdicts'][verdict][lang])}</strong></td>"
            f"<td>{html.escape(claim['conditions'][lang])}</td></tr>"
        )
    return (
        f"<h2>{html.escape(labels['heading'][lang])}</h2><p>{html.escape(labels['intro'][lang])}</p>"
        f"<table id='claims'><tr>{head}</tr>{''.join(rows)}</table>"
    )


def html_page(report: dict[str, Any], samples: Sequence[dict[str, Any]]) -> str:
    """The whole page, from the report and the run's progress samples."""
    run = report["run"]
    meta = (
        f"Run: {_inline(target(run))}, started {html.escape(run['started_at'])}, {run['duration_s']} s in all; "
        f"{run['produced']['total']:,} records produced in {run['production_s']} s. "
        f"Command: <code>{html.escape(run.get('command', ''))}</code>"
    )
    notes = _paragraphs(run_notes(run))
    paths = report["paths"]
    figures = [
        "<h2>Counts and latency (send to visible in the sink)</h2>",
        _counts_table(paths, run.get("warm_up_s") or {}),
        _figure(
            "chart-latency-cdf",
            charts.latency_cdf(report["latency_samples_s"]),
            "Each delivered record's latency from the producer's send to the object being visible; a curve further "
            "left is faster. Circles mark p50, triangles p99.",
        ),
        _figure(
            "chart-latency-parts",
            charts.latency_parts(paths),
            "The median of each part of the latency, measured per record (Firehose simulator timelines; Glue "
            "manifests).",
        ),
        "<h2>Over the run</h2>",
        _figure(
            "chart-progress",
            charts.progress(samples),
            "Records each path has processed, and its backlog (produced minus processed), from "
            "`timings/samples.jsonl`.",
        ),
        _figure("chart-memory", charts.memory(samples), "Resident memory per process, children included."),
        "<h2>Capabilities, against a ground truth computed from the input</h2>",
        _capabilities(report["capabilities"]),
        f"<h2>Monthly cost at the measured workload ({html.escape(report['cost']['region'])})</h2>",
        _cost(report["cost"]),
        _figure(
            "chart-cost",
            charts.cost_sweep(report["cost"]),
            "The cost model over throughput for 200 B, 1 KB and 5 KB records; dotted vertical lines mark where the "
            "cheaper path changes.",
        ),
        _claims(report["claims"]),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>ETL showdown report</title><style>{STYLE}</style></head><body>"
        "<h1>Firehose + Lambda vs Kinesis + Glue streaming: measured</h1>"
        f"<p class='meta'>{meta}</p>{notes}{''.join(figures)}</body></html>"
    )
