"""The shortened local comparison, run once per test session: `test_run` checks it, and the AWS-mode test
compares its own run of the same workload with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The workload both modes run in the tests (seed 7, the default).
RATE, DURATION = "100", "15"


def comparison_run(out: Path, *args: str, timeout: float = 600) -> tuple[Path, dict, str]:
    """(run folder, report, stdout) of `python -m comparison run ARGS --out OUT`, which must succeed."""
    result = subprocess.run(
        [sys.executable, "-m", "comparison", "run", *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text()), result.stdout


@pytest.fixture(scope="session")
def local_run(tmp_path_factory):
    """The quick profile on the tests' workload, the Glue job warmed up with 3 micro-batches (the profile's 30 would
    take over a minute)."""
    args = ("--profile", "quick", "--duration", DURATION, "--rate", RATE, "--glue-warm-up-batches", "3")
    return comparison_run(tmp_path_factory.mktemp("run"), *args)
