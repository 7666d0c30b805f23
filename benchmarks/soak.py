"""`make soak` (`python -m benchmarks.soak`): the local comparison at a steady rate for 10 minutes.

Both paths run as `make compare` runs them (profile quick), only longer. From the run's samples
(`timings/samples.jsonl`, every 10 s) and its report it derives, per path:
- the sustained rate: records processed per second over the steady part of the production (from two
  minutes in, once Spark has started and caught up, to the end of the production), next to the rate
  produced over the same span; the backlog left when production ended, and how long draining it took.
  Processed means, for Firehose, the processor's verdict is in (Ok, Dropped, or failed to the error
  prefix); for Glue, the record's micro-batch has committed (so Glue's count moves by whole batches);
- the memory (RSS) of each process, minute by minute;
- the accounting of every produced record (delivered, failed, quarantined, dropped, late, unaccounted).
The figures go to `benchmarks/README.md` (between the soak markers) and `benchmarks/soak.json`.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.harness import README
from comparison.monitor import PROCESS_TITLES
from comparison.run import profiles, run_local
from comparison.workload import WorkloadConfig

RESULTS = Path(__file__).with_name("soak.json")
MARK_BEGIN = "<!-- soak:begin -->"
MARK_END = "<!-- soak:end -->"
WARMUP_S = 120.0
SAMPLE_EVERY_S = 10.0
# What each path has processed: Firehose's records with a verdict, the Glue job's committed records.
PROCESSED = {"firehose_lambda": "firehose_processed", "kinesis_glue": "glue_records"}


def sustained(samples: list[dict[str, Any]], warmup_s: float = WARMUP_S) -> dict[str, Any]:
    """Rates over the steady span of the production, and each path's backlog and drain time after it."""
    producing = [s for s in samples if s["counts"]["workload"]]
    if not producing:
        raise ValueError("no sample saw a produced record")
    first_t = producing[0]["t_s"]
    end = next((s for s in producing if not s["counts"]["producing"]), None)
    if end is None:
        raise ValueError("the samples end before the production did")
    target = end["counts"]["produced"]
    start = next((s for s in producing if s["t_s"] >= first_t + warmup_s), None)
    if start is None or end["t_s"] - start["t_s"] < 60:
        raise ValueError(f"the production lasted too short a time after the {warmup_s:.0f} s warm-up to measure")
    span = end["t_s"] - start["t_s"]
    result: dict[str, Any] = {
        "span_s": round(span, 1),
        "produced_per_s": round((end["counts"]["produced"] - start["counts"]["produced"]) / span, 1),
        "paths": {},
    }
    for path, key in PROCESSED.items():
        backlog = target - end["counts"][key]
        drained = next((s for s in samples if s["t_s"] >= end["t_s"] and s["counts"][key] >= target), None)
        result["paths"][path] = {
            "processed_per_s": round((end["counts"][key] - start["counts"][key]) / span, 1),
            "backlog_at_end": max(backlog, 0),
            "drain_s": None if drained is None else round(drained["t_s"] - end["t_s"], 1),
        }
    return result


def memory_by_minute(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first sample of each minute: its time and the RSS of each process."""
    rows, minute = [], -1
    for entry in samples:
        if int(entry["t_s"] // 60) > minute:
            minute = int(entry["t_s"] // 60)
            rows.append({"minute": minute, "t_s": entry["t_s"], "rss_mb": entry["rss_mb"]})
    return rows


def summarise(report: dict[str, Any], samples: list[dict[str, Any]], command: str) -> dict[str, Any]:
    """The soak's figures, from a run's report and its samples."""
    return {
        "command": command,
        "measured_at": report["run"]["started_at"],
        "rate": report["run"]["settings"]["workload"]["rate"],
        "duration_s": report["run"]["settings"]["workload"]["duration_s"],
        "produced": report["run"]["produced"]["total"],
        "run_s": report["run"]["duration_s"],
        "sustained": sustained(samples),
        "memory": memory_by_minute(samples),
        "peak_rss_mb": report["run"]["resources"]["peak_rss_mb"],
        "accounting": {path: entry["counts"] for path, entry in report["paths"].items()},
        "latency_s": {path: entry["latency_s"] for path, entry in report["paths"].items()},
    }


def markdown(figures: dict[str, Any]) -> str:
    """The soak section of benchmarks/README.md."""
    rate = figures["sustained"]
    lines = [
        MARK_BEGIN,
        f"Measured {figures['measured_at']} with `{figures['command']}`: {figures['rate']:g} events/s for "
        f"{figures['duration_s'] / 60:g} minutes, {figures['produced']:,} records, {figures['run_s']:,.0f} s in all. "
        "Raw figures: `benchmarks/soak.json`.",
        "",
        f"Sustained rate over {rate['span_s']:,.0f} s of steady production (from {WARMUP_S:.0f} s in to its end), "
        f"produced {rate['produced_per_s']:,.1f} records/s. Processed: for Firehose, the processor's verdict is in; "
        "for Glue, the record's micro-batch has committed (Glue's count moves by whole batches). "
        f"Drain times are to the first sample ({SAMPLE_EVERY_S:g} s apart) that saw everything processed:",
        "",
        "| path | processed (records/s) | ratio to produced | backlog when production ended | drained after (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for path, entry in rate["paths"].items():
        lines.append(
            f"| {path} | {entry['processed_per_s']:,.1f} | {entry['processed_per_s'] / rate['produced_per_s']:.2f}x | "
            f"{entry['backlog_at_end']:,} | {entry['drain_s'] if entry['drain_s'] is not None else 'not drained'} |"
        )
    names = [name for name in PROCESS_TITLES if name in figures["peak_rss_mb"]]
    lines += ["", "Memory (RSS, MB) minute by minute:", ""]
    lines += ["| minute | " + " | ".join(PROCESS_TITLES[n] for n in names) + " |", "|---:|" + "---:|" * len(names)]
    for row in figures["memory"]:
        cells = [f"{row['rss_mb'].get(n):,.0f}" if row["rss_mb"].get(n) is not None else "-" for n in names]
        lines.append(f"| {row['minute']} | " + " | ".join(cells) + " |")
    lines.append("| peak | " + " | ".join(f"{figures['peak_rss_mb'][n]:,.0f}" for n in names) + " |")
    accounting = figures["accounting"]
    keys = sorted({k for counts in accounting.values() for k in counts})
    lines += ["", "Accounting of every produced record:", "", "| | " + " | ".join(accounting) + " |"]
    lines.append("|---|" + "---:|" * len(accounting))
    for key in keys:
        lines.append(
            f"| {key} | "
            + " | ".join(
                f"{counts.get(key, '-'):,}" if isinstance(counts.get(key), int) else "-"
                for counts in accounting.values()
            )
            + " |"
        )
    latency = figures["latency_s"]
    lines += [
        "",
        "Latency p50 / p99 (s): "
        + "; ".join(f"{path} {entry['p50']} / {entry['p99']}" for path, entry in latency.items())
        + ".",
        MARK_END,
    ]
    return "\n".join(lines)


def save(figures: dict[str, Any]) -> None:
    """Write soak.json and the soak section of benchmarks/README.md."""
    RESULTS.write_text(json.dumps(figures, indent=1) + "\n")
    text = README.read_text()
    if MARK_BEGIN not in text:
        text += f"\n## Soak (`make soak`)\n\n{MARK_BEGIN}\n{MARK_END}\n"
    head, _, rest = text.partition(MARK_BEGIN)
    _, _, tail = rest.partition(MARK_END)
    README.write_text(head + markdown(figures) + tail)


def main(argv: list[str] | None = None) -> int:
    """Run the soak, then write and print its figures; a run whose producer did not finish publishes nothing."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--rate", type=float, default=150.0, help="events per second (default 150, as make compare)")
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of production (default 10)")
    parser.add_argument("--driver", choices=["producer", "locust"], default="producer")
    parser.add_argument("--kpl-aggregation", action="store_true", help="send the workload as KPL aggregates")
    parser.add_argument("--out", default="runs/soak", help="run folder (default runs/soak)")
    args = parser.parse_args(argv)
    if args.minutes * 60 < WARMUP_S + 60:
        parser.error(f"--minutes must leave at least a minute after the {WARMUP_S:.0f} s warm-up")
    profile = profiles()["quick"]
    profile = replace(profile, rate=args.rate, duration_s=args.minutes * 60)
    config = WorkloadConfig(rate=args.rate, duration_s=args.minutes * 60)
    console = Console()
    started = time.monotonic()
    out = Path(args.out)
    report = run_local(
        profile,
        config,
        out,
        console,
        driver=args.driver,
        sample_every_s=SAMPLE_EVERY_S,
        kpl_aggregation=args.kpl_aggregation,
    )
    if not report["run"]["driver"].get("complete", True):
        console.print(f"[red]the producer did not send the whole workload: no figures published (see {out / 'logs'})")
        return 1
    samples = [json.loads(line) for line in (out / "timings" / "samples.jsonl").read_text().splitlines()]
    command = (
        "make soak"
        if (args.rate, args.minutes, args.driver, args.kpl_aggregation) == (150.0, 10.0, "producer", False)
        else f"python -m benchmarks.soak --rate {args.rate:g} --minutes {args.minutes:g} --driver {args.driver}"
        + (" --kpl-aggregation" if args.kpl_aggregation else "")
    )
    figures = summarise(report, samples, command)
    save(figures)
    console.print(markdown(figures))
    console.print(f"soak done in {time.monotonic() - started:,.0f} s; figures in {README} and {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
