"""The run's sampler: counts and memory per process, sampled on a clock, written as JSON Lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from comparison.monitor import Sampler, peak_rss_mb, rss_mb, run_processes


def test_rss_counts_a_process_with_or_without_its_children():
    # A child that holds 50 MB, and a grandchild: the parent's own RSS is far below the family's.
    code = (
        "import subprocess, sys, time; b = bytearray(50 * 1024 * 1024); "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess,sys; subprocess.run([sys.executable,'-c',sys.argv[1]])", code]
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (rss_mb(parent.pid, True) or 0) < 50 + 2 * (
            rss_mb(parent.pid, False) or 0
        ):
            time.sleep(0.2)
        alone, family = rss_mb(parent.pid, False), rss_mb(parent.pid, True)
        assert alone is not None and family is not None
        assert family > alone + 50
    finally:
        parent.kill()
        parent.wait()
    assert rss_mb(parent.pid, False) is None


def test_sampler_writes_samples_on_its_clock_and_a_last_one_on_stop(tmp_path):
    ticks = iter(range(1000))
    sampler = Sampler(tmp_path / "samples.jsonl", 0.1, lambda: {"n": next(ticks)}, run_processes)
    time.sleep(0.55)
    sampler.stop()
    sampler.stop()
    lines = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert lines == sampler.samples
    assert 4 <= len(lines) <= 8
    assert [entry["counts"]["n"] for entry in lines] == list(range(len(lines)))
    assert all(entry["rss_mb"]["harness"] > 10 for entry in lines)
    assert peak_rss_mb(lines)["harness"] == max(entry["rss_mb"]["harness"] for entry in lines)


def test_run_processes_names_the_children_by_role():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(20)", "comparison.local.glue_runner"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(20)"])
    try:
        found = run_processes()
        assert found["glue_runner"] == (child.pid, True)
        assert found["harness"] == (os.getpid(), False)
        assert other.pid not in {pid for pid, _ in found.values()}
    finally:
        for process in (child, other):
            process.kill()
            process.wait()
