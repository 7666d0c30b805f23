"""The cost sweep: costs over throughput and record size, where the cheaper path changes, and the report's
cost section."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from comparison.cost_workload import Workload
from comparison.sweep import SWEEP_RATES, cost_report, crossovers, sweep


def workload(**overrides) -> Workload:
    settings = {"events_per_s": 1000.0, "record_size_bytes": 200, "lambda_ms_per_record": 0.01}
    return Workload(**{**settings, **overrides})


def test_sweep_covers_10_to_100000_events_and_costs_rise_with_throughput():
    points = sweep(workload(), 5000)
    assert len(SWEEP_RATES) == 13
    assert SWEEP_RATES[0] == pytest.approx(10) and SWEEP_RATES[-1] == pytest.approx(100_000)
    assert {pt.record_size_bytes for pt in points} == {200, 1024, 5120}
    for size in (200, 1024, 5120):
        series = [pt for pt in points if pt.record_size_bytes == size]
        assert len(series) == 13
        for lo, hi in itertools.pairwise(series):
            assert lo.events_per_s < hi.events_per_s
            assert lo.firehose_lambda_usd < hi.firehose_lambda_usd
            assert lo.kinesis_glue_usd < hi.kinesis_glue_usd
    # Glue is sized by the measured throughput: 100,000 / 5,000 = 20 workers.
    assert points[-1].glue_workers == 20


def test_200_byte_records_cross_over_from_firehose_to_glue_inside_the_sweep():
    points = sweep(workload(), 5000, record_sizes=(200,))
    # 10 events/s: Firehose is cents, Glue's floor is $160.60; 100,000 events/s: Firehose bills 25.6x the bytes.
    assert points[0].cheaper == "firehose_lambda"
    assert points[-1].cheaper == "kinesis_glue"
    (crossing,) = crossovers(points)
    assert (crossing.cheaper_at_lowest, crossing.cheaper_at_highest) == ("firehose_lambda", "kinesis_glue")
    lo, hi = crossing.bracket
    rates = [pt.events_per_s for pt in points]
    assert rates.index(hi) == rates.index(lo) + 1
    assert lo < crossing.events_per_s < hi
    by_rate = {pt.events_per_s: pt for pt in points}
    assert by_rate[lo].cheaper == "firehose_lambda" and by_rate[hi].cheaper == "kinesis_glue"
    # Log-space interpolation of the cost difference between the two bracketing points.
    d_lo = by_rate[lo].firehose_lambda_usd - by_rate[lo].kinesis_glue_usd
    d_hi = by_rate[hi].firehose_lambda_usd - by_rate[hi].kinesis_glue_usd
    assert math.log(crossing.events_per_s) == pytest.approx(
        math.log(lo) + (math.log(hi) - math.log(lo)) * d_lo / (d_lo - d_hi)
    )
    assert crossing.changes == (crossing.events_per_s,)


def test_no_crossover_in_range_is_none():
    points = sweep(workload(), 5000, rates=(10, 20, 50, 100))
    for crossing in crossovers(points):
        assert crossing.events_per_s is None and crossing.bracket is None
        assert crossing.cheaper_at_lowest == crossing.cheaper_at_highest == "firehose_lambda"


def test_report_is_json_with_its_pricing_provenance():
    report = cost_report(workload(), 5000)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["region"] == "us-east-1"
    assert data["pricing_date"] == "2026-11"
    assert "https://aws.amazon.com/firehose/pricing/" in data["pricing_source"]
    assert set(data["paths"]) == {"firehose_lambda", "kinesis_glue"}
    ingestion = data["paths"]["firehose_lambda"]["lines"][1]
    assert ingestion["service"] == "firehose_ingestion"
    assert ingestion["arithmetic"].startswith("2,628,000,000 records x 5,120 B")
    assert ingestion["status"] == "from price-list copies"
    assert data["paths"]["kinesis_glue"]["usd_per_month"] == pytest.approx(report.estimate.kinesis_glue.usd_per_month)
    assert len(data["sweep"]["points"]) == 39
    assert [c["record_size_bytes"] for c in data["crossovers"]] == [200, 1024, 5120]
    assert data["workload"]["lambda_ms_per_record"] == 0.01
