"""Timing helpers and the results file shared by every benchmark."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")
README = Path(__file__).with_name("README.md")
MARK_BEGIN = "<!-- results:begin -->"
MARK_END = "<!-- results:end -->"


@dataclass
class Row:
    """One measured variant: `rate` items per second over `items`; `baseline` names the row it is compared to."""

    bench: str
    variant: str
    items: int
    seconds: float
    unit: str = "records/s"
    baseline: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else float("inf")


def best_of(repeats: int, work: Callable[[], None]) -> float:
    """Median wall time of `repeats` runs of `work` (after the caller's warm-up)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def ratio(rows: list[Row], row: Row) -> float | None:
    """row's rate divided by its baseline's rate (same bench)."""
    if row.baseline is None:
        return None
    base = next(r for r in rows if r.bench == row.bench and r.variant == row.baseline)
    return row.rate / base.rate


def save(rows: list[Row], command: str, notes: list[str]) -> None:
    """Write results.json and the results section of benchmarks/README.md.

    Benches not run this time (`--only`) keep their previous rows and notes, marked with their own date.
    """
    if RESULTS.exists():
        previous = json.loads(RESULTS.read_text())
        fresh = {r.bench for r in rows}
        kept = [r for r in previous.get("rows", []) if r["bench"] not in fresh]
        for raw in kept:
            raw.setdefault("extra", {}).setdefault("measured_at", previous.get("measured_at"))
        rows = [Row(**{k: v for k, v in raw.items() if k not in ("rate", "ratio")}) for raw in kept] + rows
        notes = [n for n in previous.get("notes", []) if not any(n.startswith(b.split(" (")[0]) for b in fresh)] + notes
    payload = {
        "command": command,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "rows": [{**asdict(r), "rate": r.rate, "ratio": ratio(rows, r)} for r in rows],
        "notes": notes,
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        MARK_BEGIN,
        f"Measured {payload['measured_at']} with `{command}` on {payload['machine']['cpus']} CPUs "
        f"(Python {payload['machine']['python']}). Raw figures: `benchmarks/results.json`.",
        "",
        "| bench | variant | items | seconds | rate | ratio to baseline |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        r_ratio = ratio(rows, r)
        against = f"{r_ratio:.2f}x {r.baseline}" if r_ratio is not None else "baseline"
        # Rows kept from an earlier run say when they were measured.
        bench = f"{r.bench} (measured {r.extra['measured_at']})" if r.extra.get("measured_at") else r.bench
        lines.append(f"| {bench} | {r.variant} | {r.items:,} | {r.seconds:.3f} | {r.rate:,.0f} {r.unit} | {against} |")
    lines += ["", *[f"- {note}" for note in notes], MARK_END]
    text = README.read_text() if README.exists() else "# Benchmarks\n\n" + MARK_BEGIN + "\n" + MARK_END + "\n"
    head, _, rest = text.partition(MARK_BEGIN)
    _, _, tail = rest.partition(MARK_END)
    README.write_text(head + "\n".join(lines) + tail)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
