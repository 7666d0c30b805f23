"""The web page from a hand-made report: every chart and table present, text escaped, nothing fetched.

The real page of a real run is loaded in headless Chromium by tests/comparison/test_run.py.
"""

from __future__ import annotations

import re

from comparison.cost_workload import Workload
from comparison.html_report import html_page
from comparison.sweep import cost_report

PATHS = ("firehose_lambda", "kinesis_glue")


def report(note: str = "ok") -> dict:
    model = cost_report(Workload(events_per_s=150, record_size_bytes=206, lambda_ms_per_record=0.09), 2418.0).to_dict()
    quantiles = {"p50": 0.5, "p90": 0.9, "p99": 1.0, "max": 1.2, "count": 3}
    capability = {"expressible": True, "matched": 3, "expected": 3, "fraction": 1.0, "note": note}
    cannot = {"expressible": False, "matched": None, "expected": None, "fraction": None, "note": "one source"}
    return {
        "run": {
            "mode": "local",
            "profile": "quick",
            "started_at": "2026-11-30T12:00:00Z",
            "duration_s": 90.0,
            "production_s": 60.0,
            "produced": {"total": 3},
            "command": "python -m comparison run",
            "driver": {"name": "producer"},
            "resources": {},
            "settings": {},
        },
        "paths": {
            p: {
                "counts": {"delivered": 3, "unaccounted": 0},
                "latency_s": quantiles,
                "startup_s": 50.0,
                "latency_parts_s": {"kinesis_put": quantiles},
            }
            for p in PATHS
        },
        "latency_samples_s": {"firehose_lambda": [0.4, 0.5, 0.6], "kinesis_glue": [20.0, 30.0, 40.0]},
        "capabilities": [
            {"name": "cleansing", "title": "Validation", "firehose_lambda": capability, "kinesis_glue": capability},
            {"name": "stream_join", "title": "Join", "firehose_lambda": cannot, "kinesis_glue": capability},
        ],
        "cost": {
            "region": model["region"],
            "pricing_date": model["pricing_date"],
            "pricing_source": model["pricing_source"],
            "measured_inputs": {
                "events_per_s": 150.0,
                "record_bytes": 206,
                "lambda_ms_per_record": 0.09,
                "glue_events_per_s_per_worker": 2418.0,
                "glue_events_per_s_per_worker_source": "make bench",
            },
            "monthly_usd": {p: {"total": model["paths"][p]["usd_per_month"]} for p in PATHS},
            "crossovers": [
                {"record_bytes": x["record_size_bytes"], "events_per_s": x["events_per_s"]} for x in model["crossovers"]
            ],
            "model": model,
        },
        "claims": [],
    }


SAMPLES = [
    {
        "t_s": float(t),
        "counts": {"produced": 3 * t, "firehose_processed": 3 * t, "glue_records": t},
        "rss_mb": {"harness": 200.0, "glue_runner": 900.0 + t},
    }
    for t in range(1, 6)
]


def test_every_chart_is_an_inline_svg_figure_with_a_caption():
    page = html_page(report(), SAMPLES)
    figures = re.findall(r'<figure id="([^"]+)" class="chart"><svg', page)
    assert figures == ["chart-latency-cdf", "chart-latency-parts", "chart-progress", "chart-memory", "chart-cost"]
    assert page.count("<figcaption>") == len(figures)
    # Self-contained: no script, no stylesheet or image fetched from elsewhere.
    assert "<script" not in page and "<link" not in page and "src=" not in page


def test_tables_marks_and_folded_arithmetic():
    page = html_page(report(), SAMPLES)
    for table in ("counts", "capabilities", "cost", "claims"):
        assert f"<table id='{table}'>" in page
    assert page.count('class="yes"') == 3 and page.count('class="no"') == 1
    lines = sum(len(report()["cost"]["model"]["paths"][p]["lines"]) for p in PATHS)
    assert page.count("<details>") == lines
    assert '<td class="num">3</td>' in page


def test_text_from_the_run_is_escaped():
    page = html_page(report(note="<script>alert(1)</script>"), SAMPLES)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_same_report_gives_the_same_page():
    assert html_page(report(), SAMPLES) == html_page(report(), SAMPLES)
