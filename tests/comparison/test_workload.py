"""The workload generator: deterministic, faithful to its fractions, and honest about its intents."""

from __future__ import annotations

import collections

import pytest

from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines
from shared import contract as c
from shared.record import curate

START = 1_764_347_746_000


def payloads(config, start=START):
    return [(event, event.payload(event.scheduled_ms)) for event in generate(config, start)]


def test_same_seed_same_events():
    config = WorkloadConfig(rate=500, duration_s=4)
    first = [(e.index, e.partition_key, e.intent, data) for e, data in payloads(config)]
    second = [(e.index, e.partition_key, e.intent, data) for e, data in payloads(config)]
    assert first == second
    other = [(e.index, data) for e, data in payloads(WorkloadConfig(rate=500, duration_s=4, seed=8))]
    assert other != [(i, d) for i, _, _, d in first]


def test_every_intent_matches_the_contract():
    """The generator's intent is the ground truth; the shared contract must agree with every record."""
    config = WorkloadConfig(rate=1000, duration_s=20, malformed_fraction=0.05, duplicate_fraction=0.03)
    counts = collections.Counter()
    first_sent: dict[int, int] = {}
    for event, data in payloads(config):
        outcome = curate(data, event.scheduled_ms)
        intent = event.intent
        counts[intent.kind] += 1
        first_sent[event.index] = first_sent.get(intent.duplicate_of, event.scheduled_ms)
        if intent.kind == "malformed":
            assert (outcome.status, outcome.reason, outcome.field) == (c.FAILED, intent.reason, intent.field), data
        else:
            assert outcome.status == c.OUTCOME_BY_TYPE[intent.kind], (data, outcome)
            assert outcome.record["event_time_ms"] == first_sent[event.index] - intent.lag_ms
            assert outcome.record["sent_at_ms"] == first_sent[event.index]
    assert set(counts) == {"telemetry", "maintenance", "heartbeat", "malformed"}


def test_fractions_are_respected():
    config = WorkloadConfig(rate=2000, duration_s=50, seed=3)
    events = list(generate(config, START))
    scheduled = config.total_scheduled
    originals = [e for e in events if e.intent.duplicate_of is None]
    assert len(originals) == scheduled
    kinds = collections.Counter(e.intent.kind for e in originals)
    telemetry = kinds["telemetry"]
    assert kinds["malformed"] == pytest.approx(scheduled * config.malformed_fraction, rel=0.15)
    assert kinds["heartbeat"] == pytest.approx(scheduled * config.heartbeat_fraction, rel=0.15)
    assert kinds["maintenance"] == pytest.approx(scheduled * config.maintenance_fraction, rel=0.15)
    late = sum(e.intent.late for e in originals)
    assert late == pytest.approx(telemetry * config.late_fraction, rel=0.2)
    duplicates = [e for e in events if e.intent.duplicate_of is not None]
    assert len(duplicates) == pytest.approx(telemetry * config.duplicate_fraction, rel=0.2)


def test_duplicates_resend_the_original_bytes_later():
    config = WorkloadConfig(rate=1000, duration_s=10, duplicate_fraction=0.05)
    events = list(generate(config, START))
    by_index = {e.index: e for e in events}
    sent = {e.index: e.payload(e.scheduled_ms + 7) for e in events}
    duplicates = [e for e in events if e.intent.duplicate_of is not None]
    assert duplicates
    for duplicate in duplicates:
        original = by_index[duplicate.intent.duplicate_of]
        assert sent[duplicate.index] == sent[original.index]
        assert duplicate.scheduled_ms > original.scheduled_ms
        assert duplicate.partition_key == original.partition_key


def test_registry_is_reference_data_for_the_joins():
    config = WorkloadConfig(devices=12, sites=4)
    devices = build_registry(config)
    assert [d.device_id for d in devices] == [f"dev-{n:04d}" for n in range(12)]
    assert {d.site for d in devices} == {f"site-{n:02d}" for n in range(4)}
    lines = registry_json_lines(devices).decode().splitlines()
    assert len(lines) == 12 and all('"alert_threshold_c"' in line for line in lines)


@pytest.mark.parametrize(
    "bad",
    [{"rate": 0}, {"late_fraction": 1.5}, {"sites": 0}, {"late_lag_s": (5.0, 1.0)}, {"devices": 2, "sites": 3}],
)
def test_bad_configuration_is_refused_clearly(bad):
    with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
        WorkloadConfig(**bad)
