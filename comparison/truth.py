"""Ground truth: what each capability should produce, computed in batch from the produced records alone.

Independent of both paths: plain Python over the input file, with the shared contract's Python side
(`shared.record`) and the registry lookup (`shared.enrichment`). Windows, de-duplication and the
maintenance join are recomputed here from their definitions, not with Spark.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared import contract as c
from shared.enrichment import Registry
from shared.record import curate


@dataclass
class Truth:
    """The expected results of one input (records in send order)."""

    curated: dict[str, dict[str, Any]] = field(default_factory=dict)  # event_id -> first valid record
    copies: dict[str, int] = field(default_factory=dict)  # event_id -> valid copies sent
    failed: list[tuple[int, str | None]] = field(default_factory=list)  # (input index, reason)
    dropped: list[str] = field(default_factory=list)  # event_ids dropped by design
    statuses: list[str] = field(default_factory=list)  # the contract's status of each input row, in order

    def telemetry(self) -> list[dict[str, Any]]:
        """Curated telemetry records."""
        return [r for r in self.curated.values() if r["event_type"] == c.TELEMETRY]


def build(rows: Iterable[dict[str, Any]], registry: Registry | None) -> Truth:
    """Apply the contract and enrichment to every input row (`data` bytes, `sent_at_ms`)."""
    truth = Truth()
    lookup = registry or Registry({})
    for row in rows:
        # The send time stands in for the arrival time: the contract's only use of it is the
        # future-timestamp rule, whose 5-minute margin dwarfs the send-to-arrival gap.
        outcome = curate(row["data"], int(row["sent_at_ms"]))
        truth.statuses.append(outcome.status)
        if outcome.status == c.FAILED:
            truth.failed.append((int(row["index"]), outcome.reason))
            continue
        record = lookup.enrich(dict(outcome.record))
        if outcome.status == c.DROPPED:
            truth.dropped.append(record["event_id"])
            continue
        event_id = record["event_id"]
        truth.copies[event_id] = truth.copies.get(event_id, 0) + 1
        truth.curated.setdefault(event_id, record)
    return truth


def device_windows(records: Iterable[dict[str, Any]], window_ms: int) -> dict[tuple[int, str], dict[str, Any]]:
    """Tumbling windows of telemetry per (window start, device): the aggregates the Glue job computes."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record["event_type"] == c.TELEMETRY:
            start = record["event_time_ms"] - record["event_time_ms"] % window_ms
            groups[(start, record["device_id"])].append(record)
    result = {}
    for key, members in groups.items():
        temperatures = [r["temperature_c"] for r in members if r["temperature_c"] is not None]
        result[key] = {
            "site": members[0]["site"],
            "readings": len(members),
            "temperature_readings": len(temperatures),
            "temperature_min": min(temperatures) if temperatures else None,
            "temperature_max": max(temperatures) if temperatures else None,
            "temperature_sum": math.fsum(temperatures) if temperatures else None,
            "alerts": sum(1 for r in members if r["alert"]),
            "device_alerts": sum(1 for r in members if r["device_alert"]),
        }
    return result


def site_windows(devices: dict[tuple[int, str], dict[str, Any]]) -> dict[tuple[int, str | None], dict[str, Any]]:
    """Device windows rolled up per (window start, site)."""
    result: dict[tuple[int, str | None], dict[str, Any]] = {}
    for (start, _device), stats in devices.items():
        key = (start, stats["site"])
        into = result.setdefault(key, {"devices": 0, "readings": 0, "temperature_readings": 0, "alerts": 0})
        into["devices"] += 1
        into["readings"] += stats["readings"]
        into["temperature_readings"] += stats["temperature_readings"]
        into["alerts"] += stats["alerts"]
    return result


def maintenance_join(records: Iterable[dict[str, Any]], bound_ms: int) -> set[tuple[str, str]]:
    """(maintenance event_id, telemetry event_id) pairs: same device, reading within the bound after."""
    maintenance: dict[str, list[dict[str, Any]]] = defaultdict(list)
    telemetry = []
    for record in records:
        if record["event_type"] == c.MAINTENANCE:
            maintenance[record["device_id"]].append(record)
        elif record["event_type"] == c.TELEMETRY:
            telemetry.append(record)
    pairs = set()
    for reading in telemetry:
        for event in maintenance.get(reading["device_id"], ()):
            if 0 <= reading["event_time_ms"] - event["event_time_ms"] <= bound_ms:
                pairs.add((event["event_id"], reading["event_id"]))
    return pairs


def interval_ms(text: str) -> int:
    """A Spark interval string ("10 seconds", "1 minute", "500 milliseconds") in milliseconds."""
    amount, _, unit = text.strip().partition(" ")
    unit = unit.strip().lower().rstrip("s")
    scale = {"millisecond": 1, "second": 1000, "minute": 60_000, "hour": 3_600_000}.get(unit)
    if scale is None:
        raise ValueError(f"interval {text!r}: use milliseconds, seconds, minutes or hours")
    return int(float(amount) * scale)
