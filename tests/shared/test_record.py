"""The per-record Python contract (the Lambda's) against the hand-written cases."""

from __future__ import annotations

import pytest

from shared import contract as c
from shared.record import curate, format_utc_ms, parse_timestamp_ms, round_half_up
from tests.shared.cases import CASES, EXPECTED_RECORDS

pytestmark = pytest.mark.glue_compat


@pytest.mark.parametrize(("name", "data", "arrival", "status", "reason", "field"), CASES, ids=[c[0] for c in CASES])
def test_case(name, data, arrival, status, reason, field):
    outcome = curate(data, arrival)
    assert (outcome.status, outcome.reason, outcome.field) == (status, reason, field)
    if status == c.FAILED:
        assert outcome.record is None
    else:
        assert list(outcome.record) == list(c.CURATED_FIELD_NAMES)
        for key, value in EXPECTED_RECORDS.get(name, {}).items():
            assert outcome.record[key] == value, key


def test_rounding_is_half_up_on_the_double():
    # Python's round() gives 2.67 here (2.675 is 2.67499999... in binary); the contract's rule says 2.68
    # because 2.675 * 100 + 0.5 rounds to 268.0 in doubles. Both engines compute exactly this.
    assert round_half_up(2.675, 2) == 2.68
    assert round_half_up(-12.345, 2) == -12.34
    assert round_half_up(0.05, 1) == 0.1


def test_timestamps_round_trip_through_the_output_format():
    for text, expected in [
        ("2000-01-01T00:00:00Z", "2000-01-01T00:00:00.000Z"),
        ("2024-02-29T23:59:59.9999+01:00", "2024-02-29T22:59:59.999Z"),
        ("2025-12-31T23:30:00-01:00", "2026-01-01T00:30:00.000Z"),
    ]:
        assert format_utc_ms(parse_timestamp_ms(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2025-13-01T00:00:00Z",
        "2025-11-31T00:00:00Z",
        "2025-11-28 16:00:00Z",
        "2025-11-28T16:00:00.Z",
        "2025-11-28T16:00:00.1234567890Z",
        "２０２５-11-28T16:00:00Z",
    ],
)
def test_not_timestamps(text):
    assert parse_timestamp_ms(text) is None


def test_without_orjson_every_verdict_is_the_same(monkeypatch):
    # An AWS Glue job has no orjson: the standard library's strict path must judge every document alike.
    from shared import record
    from tests.shared.test_differential import generated_records

    inputs = [(data, arrival) for _, data, arrival, *_ in CASES] + generated_records(20)
    with_orjson = [curate(data, arrival) for data, arrival in inputs]
    monkeypatch.setattr(record, "orjson", None)
    assert [curate(data, arrival) for data, arrival in inputs] == with_orjson
