"""Fixtures of the study-mode tests: an isolated state directory and working directory, the CLI driven in-process,
and report dicts built here (never a file in the repository posing as a measurement)."""

from __future__ import annotations

import copy
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from comparison.cli import main

CAPABILITIES = ("cleansing", "enrichment", "dedup", "windowed_aggregates", "late_events", "stream_join")


@dataclass
class Result:
    """What one CLI invocation did."""

    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """State in tmp_path, and a working directory without runs/, so no real report or state leaks in."""
    monkeypatch.setenv("ETL_SHOWDOWN_STATE_DIR", str(tmp_path / "state"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def study(monkeypatch, capsys):
    """Run `python -m comparison study ARGS` in-process with `stdin` as standard input."""

    def run(*args: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(["study", *args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def sample_report() -> dict[str, Any]:
    """A complete schema-1 report with made-up figures, in the shape the harness writes."""
    counts = {
        "delivered": 11000,
        "processing_failed": 240,
        "dropped": 300,
        "quarantined": 0,
        "late": 120,
        "duplicates_delivered": 57,
        "unaccounted": 0,
    }
    return {
        "schema_version": 2,
        "run": {
            "mode": "local",
            "profile": "quick",
            "started_at": "2026-11-28T20:00:00Z",
            "duration_s": 120.0,
            "settings": {},
            "produced": {"total": 12000, "by_kind": {"valid": 11000, "malformed": 240, "duplicate": 57}},
        },
        "paths": {
            "firehose_lambda": {
                "counts": dict(counts),
                "latency_s": {"p50": 1.2, "p90": 2.5, "p99": 4.0, "max": 6.0},
                "latency_parts_s": {},
            },
            "kinesis_glue": {
                "counts": dict(counts, duplicates_delivered=0),
                "latency_s": {"p50": 8.5, "p90": 12.0, "p99": 20.0, "max": 25.0},
                "latency_parts_s": {},
                "startup_s": 30.0,
            },
        },
        "capabilities": [
            {
                "name": name,
                "title": name,
                "firehose_lambda": (
                    {"expressible": True, "matched": 100, "expected": 100, "fraction": 1.0}
                    if name in ("cleansing", "enrichment")
                    else {"expressible": False, "matched": None, "expected": 100, "fraction": None}
                ),
                "kinesis_glue": {"expressible": True, "matched": 100, "expected": 100, "fraction": 1.0},
            }
            for name in CAPABILITIES
        ],
        "cost": {
            "region": "us-east-1",
            "pricing_date": "2026-11",
            "pricing_source": [],
            "monthly_usd": {
                "firehose_lambda": {"total": 12.3, "breakdown": {}},
                "kinesis_glue": {"total": 172.5, "breakdown": {}},
            },
            "crossovers": [{"record_bytes": 200, "events_per_s": 1234.5}],
        },
        "claims": [],
    }


@pytest.fixture
def report() -> dict[str, Any]:
    """A fresh copy of the sample report, free to modify."""
    return copy.deepcopy(sample_report())


def write_report(path: Path, report: dict[str, Any]) -> Path:
    """Write `report` as JSON at `path` (parents created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report), encoding="utf-8")
    return path
