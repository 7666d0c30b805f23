"""The soak's figures from a run's samples: steady-span rates, backlog and drain, memory by minute."""

from __future__ import annotations

import pytest

from benchmarks.soak import markdown, memory_by_minute, sustained


def samples(seconds: int, rate: int, glue_delay_s: int, stop_at: int) -> list[dict]:
    """Every 10 s: production at `rate` until `stop_at`, Firehose keeping up, Glue `glue_delay_s` behind; at t=0
    only the harness's warm-up record is out, before the workload."""
    out = []
    for t in range(0, seconds + 1, 10):
        produced = rate * min(t, stop_at) or 1
        out.append(
            {
                "t_s": float(t),
                "counts": {
                    "produced": produced,
                    "producing": int(t < stop_at),
                    "workload": int(t > 0),
                    "firehose_processed": produced,
                    "glue_records": rate * max(0, min(t - glue_delay_s, stop_at)),
                },
                "rss_mb": {"harness": 100.0 + t / 10, "glue_runner": 900.0},
            }
        )
    return out


def test_sustained_rates_backlog_and_drain():
    figures = sustained(samples(400, 150, 30, 300))
    assert figures["produced_per_s"] == pytest.approx(150, rel=0.01)
    # From the first produced sample (t=10) plus the warm-up (t=130) to the first sample after production (t=300).
    assert figures["span_s"] == 170.0
    firehose, glue = figures["paths"]["firehose_lambda"], figures["paths"]["kinesis_glue"]
    assert firehose == {"processed_per_s": pytest.approx(150, rel=0.01), "backlog_at_end": 0, "drain_s": 0.0}
    assert glue["backlog_at_end"] == 150 * 30 and glue["drain_s"] == 30.0


def test_a_path_that_never_drains_says_so():
    figures = sustained(samples(320, 150, 60, 300))
    assert figures["paths"]["kinesis_glue"]["drain_s"] is None


def test_too_short_a_production_is_refused():
    with pytest.raises(ValueError, match="too short"):
        sustained(samples(200, 150, 10, 150))


def test_memory_by_minute_and_the_markdown():
    data = samples(400, 150, 30, 300)
    rows = memory_by_minute(data)
    assert [row["minute"] for row in rows] == [0, 1, 2, 3, 4, 5, 6]
    assert rows[1]["rss_mb"]["harness"] == 106.0
    figures = {
        "command": "make soak",
        "measured_at": "2026-11-28T00:00:00Z",
        "rate": 150,
        "duration_s": 300,
        "produced": 45_000,
        "run_s": 420,
        "sustained": sustained(data),
        "memory": rows,
        "peak_rss_mb": {"harness": 140.0, "glue_runner": 900.0},
        "accounting": {"firehose_lambda": {"unaccounted": 0}, "kinesis_glue": {"unaccounted": 0}},
        "latency_s": {"firehose_lambda": {"p50": 0.5, "p99": 1.0}, "kinesis_glue": {"p50": 17, "p99": 31}},
    }
    text = markdown(figures)
    assert text.startswith("<!-- soak:begin -->") and text.endswith("<!-- soak:end -->")
    assert "| kinesis_glue | 150.0 | 1.00x | 4,500 | 30.0 |" in text
    assert "| peak | 140 | 900 |" in text
