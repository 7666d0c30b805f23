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


@pytest.fixture(scope="session")
def local_run(tmp_path_factory):
    """(run folder, report, stdout) of `python -m comparison run --profile quick` on the tests' workload."""
    out = tmp_path_factory.mktemp("run")
    command = [sys.executable, "-m", "comparison", "run", "--profile", "quick", "--duration", DURATION]
    result = subprocess.run(
        [*command, "--rate", RATE, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text()), result.stdout
