"""The run's sampler: counts and memory per process, sampled on a clock, written as JSON Lines."""

from __future__ import annotations

import json
import os
import signal
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
        [sys.executable, "-c", "import subprocess,sys; subprocess.run([sys.executable,'-c',sys.argv[1]])", code],
        start_new_session=True,
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
        # The whole family: the child and grandchild must not outlive the test.
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
    assert rss_mb(parent.pid, False) is None


def test_sampler_writes_samples_on_its_clock_and_a_last_one_on_stop(tmp_path):
    ticks = iter(range(1000))
    sampler = Sampler(tmp_path / "samples.jsonl", 0.1, lambda: {"n": next(ticks)}, run_processes)
    deadline = time.monotonic() + 20
    while len(sampler.samples) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    sampler.stop()
    taken = len(sampler.samples)
    sampler.stop()
    lines = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert lines == sampler.samples
    assert len(lines) == taken >= 4, "three samples on the clock, then one at stop, and none after"
    assert [entry["counts"]["n"] for entry in lines] == list(range(len(lines)))
    assert all(entry["rss_mb"]["harness"] > 10 for entry in lines)
    assert peak_rss_mb(lines)["harness"] == max(entry["rss_mb"]["harness"] for entry in lines)


def test_run_processes_names_the_children_by_role(tmp_path):
    # A stand-in started as the harness starts the Glue runner (`python -m comparison.local.glue_runner ...`),
    # found first on the path; the path of its run folder names another role, which must not count.
    package = tmp_path / "comparison" / "local"
    package.mkdir(parents=True)
    for init in (tmp_path / "comparison" / "__init__.py", package / "__init__.py"):
        init.write_text("")
    (package / "glue_runner.py").write_text("import time\ntime.sleep(20)\n")
    argv = [sys.executable, "-m", "comparison.local.glue_runner", "--output", "runs/locust/sinks"]
    child = subprocess.Popen(argv, cwd=tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(20)", "locust", "kinesalite.js"])
    try:
        found = run_processes()
        deadline = time.monotonic() + 10
        while "glue_runner" not in found and time.monotonic() < deadline:
            time.sleep(0.1)
            found = run_processes()
        assert found["glue_runner"] == (child.pid, True)
        assert "locust" not in found
        assert found["harness"] == (os.getpid(), False)
        assert other.pid not in {pid for pid, _ in found.values()}
    finally:
        for process in (child, other):
            process.kill()
            process.wait()
