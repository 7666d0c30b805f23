"""The prices behind the cost model: every figure's provenance, no guessed region, the billing rules
(Firehose's 5 KB rounding, tiers)."""

from __future__ import annotations

import pytest

from comparison.cost import estimate
from comparison.cost_workload import Workload
from comparison.pricing import UnknownRegionError, firehose_billed_bytes, pricing, tiered_usd


def test_every_price_limit_and_unit_says_where_it_comes_from():
    p = pricing("us-east-1")
    allowed = {"confirmed", "from price-list copies", "UNCONFIRMED", "assumption"}
    for entry in [*p.prices.values(), *p.limits.values(), *p.units.values()]:
        assert entry.source.startswith("https://"), entry
        assert entry.unit and entry.as_of == "2026-11", entry
        assert entry.status in allowed, entry
    assert p.prices["firehose_dynamic_partitioning_gb"].status == "UNCONFIRMED"
    assert p.prices["firehose_ingestion"].status == "from price-list copies"
    assert p.prices["lambda_duration_x86_64"].status == "confirmed"


def test_a_region_without_prices_is_an_error_not_a_guess():
    with pytest.raises(UnknownRegionError, match=r"eu-west-1.*known: us-east-1"):
        pricing("eu-west-1")
    with pytest.raises(UnknownRegionError):
        estimate(Workload(events_per_s=1000.0, record_size_bytes=200, lambda_ms_per_record=0.01), region="mars-north-1")


def test_firehose_rounds_each_record_up_to_5_kb():
    assert firehose_billed_bytes(1) == 5120
    assert firehose_billed_bytes(5120) == 5120
    assert firehose_billed_bytes(5121) == 10240
    # The AWS facts' worked figure: a 200-byte event is billed as 5 KB, "25x" (5 KB / 200 B, rounded).
    assert firehose_billed_bytes(200) == 5 * 1024
    assert firehose_billed_bytes(200) / 200 == pytest.approx(25.6)


def test_firehose_ingestion_tier_boundaries():
    tiers = pricing().tiers("firehose_ingestion")
    first, second = 500 * 1024, 1536 * 1024  # 500 TB and 1.5 PB in GB: 512,000 and 1,572,864
    assert [t.tier_gb for t in tiers] == [first, second, None]
    assert tiered_usd(first, tiers)[0] == pytest.approx(first * 0.029)  # $14,848
    assert tiered_usd(first + 1, tiers)[0] == pytest.approx(first * 0.029 + 0.025)
    top = first * 0.029 + second * 0.025  # $14,848 + $39,321.60
    assert tiered_usd(first + second, tiers)[0] == pytest.approx(top)
    total, bands = tiered_usd(first + second + 10, tiers)
    assert total == pytest.approx(top + 10 * 0.020)
    assert bands == ((first, 0.029), (second, 0.025), (10, 0.020))
    assert tiered_usd(0, tiers) == (0, ())
