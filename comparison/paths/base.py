"""What a compared path offers the run and the report, and the helpers the path modules share.

A path is one module under `comparison/paths/` holding a `PATH` (a `PathSpec`): its name and title, its
knobs (each a template parameter, with one name used by the CLI flag, the settings and the cost model), a
local and an AWS backend that run it, and `account`, which reads what the run folder holds for it and
returns its part of the report. `run.py` and `report.py` only loop over `comparison.paths.PATHS`.
"""

from __future__ import annotations

import contextlib
import importlib
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from comparison import kpl, truth
from comparison.local.template import Template

# The capabilities the report measures, in its order: (name, title).
CAPABILITIES = (
    ("cleansing", "Per-record validation with reason codes"),
    ("enrichment", "Enrichment with the device registry"),
    ("dedup", "De-duplication of re-sent events"),
    ("windowed_aggregates", "Tumbling-window aggregates per device and site"),
    ("late_events", "Late events detected against a watermark"),
    ("stream_join", "Telemetry joined with maintenance events (stream-stream)"),
)
HARNESS, SERVICE = "measured by the harness", "reported by the service"


@dataclass(frozen=True)
class Knob:
    """One setting of a path: its name (settings field, cost-model input, CLI flag `--name-with-dashes`),
    the template parameter that sets it, its type and what it means."""

    name: str
    parameter: str
    kind: type
    help: str

    @property
    def flag(self) -> str:
        """The command-line flag."""
        return "--" + self.name.replace("_", "-")


@dataclass
class Produced:
    """What the producer has sent so far: user records and the Kinesis records that carried them."""

    records: int = 0
    kinesis_records: int = 0
    producing: bool = True
    # The workload's production has begun (after the warm-up record).
    workload: bool = False


class Backend(Protocol):
    """One path running against a target (the local stand-ins or a deployed stack)."""

    def start(self) -> None:
        """Launch the path (returns at once)."""

    def wait_ready(self) -> float | None:
        """Block until the path takes traffic; seconds from launch (None when it needs no start-up)."""

    def counts(self) -> dict[str, int]:
        """Progress counters for the run's samples (names prefixed by the path's short name)."""

    def status(self) -> str:
        """A few words of progress for the progress line."""

    def mark(self) -> tuple:
        """A value that changes whenever the path makes progress."""

    def caught_up(self, produced: Produced) -> bool:
        """Every record produced so far has been processed (what comes after it, such as windows, may not have)."""

    def drained(self, produced: Produced) -> bool:
        """Everything produced has come out of the path."""

    def wants_tick(self, produced: Produced) -> bool:
        """The path needs one more record to finish (a watermark that moves only with data)."""

    def healthy(self) -> bool:
        """The path's processes or job are still running."""

    def restart(self) -> bool:
        """Start a stopped or killed path again on its checkpoint; False when the path has nothing to restart."""

    def stop(self) -> None:
        """Stop what the backend started (idempotent)."""

    def collect(self, out: Path) -> dict[str, Any]:
        """Copy the path's sinks and timings into the run folder; returns the run description's parts:
        "settings" (this path's), and optionally "kpl" and "chaos" entries."""


@dataclass
class PathReport:
    """A path's part of the report."""

    section: dict[str, Any]
    latency_samples: list[float]
    capabilities: dict[str, dict[str, Any]]
    # Inputs of `cost.Workload` this path measured or configured, and what the report shows of them.
    cost_inputs: dict[str, Any] = field(default_factory=dict)
    measured_inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunData:
    """What the report derives every path's figures from: the run folder and the ground truth."""

    out: Path
    run: dict[str, Any]
    rows: list[dict[str, Any]]
    expected: truth.Truth
    events_per_s: float

    @property
    def statuses(self) -> list[str]:
        """The contract's status of each produced row."""
        return self.expected.statuses

    @cached_property
    def ticks(self) -> set[str]:
        """Event ids of the watermark ticks the harness sent."""
        return {r["event_id"] for r in self.rows if r.get("kind") == "tick"}

    @cached_property
    def workload_started_ms(self) -> int:
        """When the first record of the workload (not a harness tick) was sent; 0 when none was."""
        return min((r["sent_at_ms"] for r in self.rows if r.get("kind") != "tick"), default=0)

    @cached_property
    def late_ids(self) -> set[str]:
        """Event ids the workload made late."""
        return {r["event_id"] for r in self.rows if r.get("late")}

    def by_position(self) -> dict[tuple[Any, Any, int], dict[str, Any]]:
        """Produced rows by shard, sequence number and place in a KPL aggregate."""
        return {position(r): r for r in self.rows}


@dataclass(frozen=True)
class PathSpec:
    """A compared path: what the run and the report need of it."""

    name: str
    title: str
    short: str  # the prefix of its progress counters
    settings_key: str  # its section under run["settings"]
    knobs: tuple[Knob, ...]
    settings: Callable[[Template], Any]
    # The backends, as "module:Class": they build on this module's path, which they import, not the reverse.
    backends: dict[str, str]
    account: Callable[[RunData], PathReport]

    def backend(self, target: str, *args: Any) -> Backend:
        """The path's backend for a target ("local" or "aws"), built with the target's arguments."""
        module, _, name = self.backends[target].partition(":")
        return getattr(importlib.import_module(module), name)(*args)


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    """p50, p90, p99 and max (nearest-rank), in the values' unit; None for an empty list."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p90": None, "p99": None, "max": None, "count": 0}

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": ordered[-1], "count": len(ordered)}


def position(row: dict[str, Any]) -> tuple[Any, Any, int]:
    """Where a record sat in the stream: shard, sequence number, and its place in a KPL aggregate (0 alone)."""
    return row.get("shard_id"), row.get("sequence_number"), row.get("subsequence_number") or 0


def inside_aggregates(sunk: Counter) -> Counter:
    """The user records of the KPL aggregates in an error or quarantine output, by their bytes: an
    aggregate that reached the contract whole (not unpacked) fails there with every record it carries."""
    inside: Counter = Counter()
    for data, copies in sunk.items():
        if kpl.is_aggregate(data):
            with contextlib.suppress(kpl.KplFormatError):
                for user in kpl.unpack(data):
                    inside[user.data] += copies
    return inside


def duplicates(event_ids: Iterable[str]) -> int:
    """Copies beyond the first of each event id."""
    return sum(n - 1 for n in Counter(event_ids).values() if n > 1)


def capability(expressible: bool, matched: int | None, expected: int | None, note: str) -> dict[str, Any]:
    """One path's result on one capability."""
    fraction = None if matched is None or not expected else matched / expected
    return {"expressible": expressible, "matched": matched, "expected": expected, "fraction": fraction, "note": note}


def enrichment_matches(records: list[dict[str, Any]], expected: truth.Truth, fields: Iterable[str]) -> tuple[int, int]:
    """(records enriched as the ground truth says, records with a ground truth)."""
    names = tuple(fields)
    matched = total = 0
    for record in records:
        want = expected.curated.get(record.get("event_id"))
        if want is None:
            continue
        total += 1
        matched += all(record.get(name) == want[name] for name in names)
    return matched, total
