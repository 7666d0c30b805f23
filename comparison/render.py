"""report.json as Markdown (report.md), and the figures' formatting the web page shares (comparison.html_report)."""

from __future__ import annotations

from typing import Any

from comparison.monitor import PROCESS_TITLES
from comparison.paths import TITLES
from comparison.study.claims import claims_markdown

STARTUP_NONE = "n/a (invoked on demand)"
# The first record, sent once every path takes traffic and before the workload (`comparison.measure`).
WARM_UP_ROW = "first record, sent to processed, before the workload (s)"


def target(run: dict[str, Any]) -> str:
    """What the run measured: the local profile, or the deployed stack and its region."""
    if run["mode"] == "aws":
        return f"mode `aws`, stack `{run['stack']}` in {run['region']}"
    return f"mode `{run['mode']}`, profile `{run['profile']}`"


def fmt(value: Any, digits: int = 2) -> str:
    """A figure for a table: n/a for None, thousands separators, `digits` decimals for floats."""
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
        f"call time median {fmt(driver['median_ms'], 0)} ms, p99 {fmt(driver['p99_ms'], 0)} ms "
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


def _kpl_lines(kpl: dict[str, Any]) -> list[str]:
    if not kpl.get("aggregation"):
        return []
    carried = (
        f"{kpl['user_records']:,} user records in {kpl['kinesis_records']:,} Kinesis records "
        f"({kpl['user_records'] / kpl['kinesis_records']:.1f} per record)"
        if kpl.get("kinesis_records")
        else f"{kpl['user_records']:,} user records"
    )
    glue = (
        "the local Glue source unpacks them (assumed: Glue does not document it)"
        if kpl["glue_deaggregation_assumed"]
        else "the local Glue source hands them on whole (--glue-kpl-deaggregation off), so the job quarantines "
        "each as kpl_aggregate"
    )
    return [
        "",
        f"KPL aggregation: {carried}. Firehose unpacked {kpl['firehose_aggregates_unpacked']:,} aggregates before "
        f"the Lambda ({kpl['firehose_aggregates_malformed']:,} malformed, failed as kpl_aggregate); {glue}. "
        "Accounting and latency are per user record.",
    ]


def _warm_up_lines(glue: dict[str, Any]) -> list[str]:
    warmed = glue.get("jit_warm_up")
    if not warmed:
        return []
    return [
        "",
        f"Before the workload, the local Glue job ran its pipeline for {warmed['batches']} micro-batches of about "
        f"{warmed['batch_events']:,} events on a stream of its own ({warmed['elapsed_s']:.0f} s; the first "
        f"{fmt(warmed['first_s'])} s, the 2nd to 5th {fmt(warmed['second_to_fifth_s'])} s, the last five "
        f"{fmt(warmed['last_five_s'])} s, "
        "medians), so that its micro-batches are measured warm, as a job running for hours runs them. A deployed "
        "job's first minutes, and the minutes after a restart, run slower. The start-up figure leaves it out.",
    ]


def run_notes(run: dict[str, Any]) -> list[str]:
    """Lines on how the run went (producer, memory, the Glue job's warm-up, Lambda response size, KPL aggregation),
    each after a blank."""
    settings = run.get("settings") or {}
    return [
        *_driver_lines(run.get("driver") or {}),
        *_warm_up_lines(settings.get("glue") or {}),
        *_memory_lines(run.get("resources") or {}),
        *_response_lines(settings.get("firehose") or {}),
        *_kpl_lines(settings.get("kpl") or {}),
    ]


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    run = report["run"]
    lines = [
        "# Firehose + Lambda vs Kinesis + Glue streaming: measured",
        "",
        f"Run: {target(run)}, started {run['started_at']}, "
        f"{run['duration_s']} s in all; {run['produced']['total']:,} records produced in {run['production_s']} s "
        f"({', '.join(f'{k} {v:,}' for k, v in run['produced']['by_kind'].items())}).",
        *run_notes(run),
        "",
        "## Counts and latency (send to visible in the sink)",
        "",
        "| | " + " | ".join(TITLES[p] for p in TITLES) + " |",
        "|---" * (len(TITLES) + 1) + "|",
    ]
    paths = report["paths"]
    names = sorted({k for p in paths.values() for k in p["counts"]})
    for name in names:
        lines.append(f"| {name} | " + " | ".join(fmt(paths[p]["counts"].get(name)) for p in TITLES) + " |")
    for q in ("p50", "p90", "p99", "max"):
        lines.append(f"| latency {q} (s) | " + " | ".join(fmt(paths[p]["latency_s"][q]) for p in TITLES) + " |")
    startup = (fmt(paths[p]["startup_s"], 1) if paths[p].get("startup_s") is not None else STARTUP_NONE for p in TITLES)
    lines.append("| start-up, launch to taking traffic (s) | " + " | ".join(startup) + " |")
    warm = run.get("warm_up_s") or {}
    lines.append(f"| {WARM_UP_ROW} | " + " | ".join(fmt(warm.get(p), 1) for p in TITLES) + " |")
    lines += ["", "Latency split into its parts (p50 / p99, seconds):", ""]
    for path in TITLES:
        parts = paths[path]["latency_parts_s"]
        text = "; ".join(f"{k} {fmt(v['p50'])} / {fmt(v['p99'])}" for k, v in parts.items()) or "not exposed per record"
        lines.append(f"- {TITLES[path]}, {paths[path].get('latency_source', 'measured by the harness')}: {text}")
    metrics = [(p, m) for p in TITLES for m in paths[p].get("service_metrics", [])]
    if metrics:
        lines += ["", "What the services report for the run (CloudWatch, over the run's minutes):", ""]
        lines += [f"- {TITLES[p]}: {m['title']}: {fmt(m['value'])} {m['unit']} ({m['source']})" for p, m in metrics]
    lines += [f"- {TITLES[p]}: not read: {paths[p]['service_metrics_unavailable']}" for p in TITLES
              if paths[p].get("service_metrics_unavailable")]  # fmt: skip
    lines += ["", "## Capabilities, against a ground truth computed from the input", ""]
    lines += ["| capability | " + " | ".join(TITLES.values()) + " |", "|---" * (len(TITLES) + 1) + "|"]
    for cap in report["capabilities"]:
        lines.append(f"| {cap['title']} | " + " | ".join(_capability_cell(cap[p]) for p in TITLES) + " |")
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
    for path in TITLES:
        total = cost["monthly_usd"][path]
        parts = ", ".join(f"{k} ${v:,.2f}" for k, v in total["breakdown"].items())
        lines.append(f"- {TITLES[path]}: **${total['total']:,.2f}** per month ({parts})")
    lines += ["", "Where the cheaper path changes (throughput sweep 10 to 100,000 events/s):", ""]
    for crossover in cost["crossovers"]:
        at = crossover["events_per_s"]
        where = f"about {at:,.0f} events/s" if at is not None else "no change in the range"
        lines.append(f"- {crossover['record_bytes']:,}-byte records: {where}")
    lines += ["", "Arithmetic of each line:", ""]
    for path in TITLES:
        for line in cost["model"]["paths"][path]["lines"]:
            lines.append(f"- {TITLES[path]}, {line['service']}: {line['arithmetic']} ({line['status']})")
    lines += ["", f"Prices: {', '.join(cost['pricing_source'])}", "", claims_markdown(report["claims"], "en"), ""]
    return "\n".join(lines)
