"""A shortened local comparison, end to end through the real command, checked against its own files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from comparison.glue_outputs import manifests, read_outputs
from comparison.inputs import read_rows
from comparison.paths.firehose_lambda import firehose_records
from tests.comparison.conftest import comparison_run

pytestmark = [pytest.mark.slow, pytest.mark.spark]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(local_run):
    return local_run


def test_every_produced_record_is_accounted_for_in_both_paths(run):
    out, report, _ = run
    produced = len(read_rows(out / "input" / "events.jsonl"))
    assert report["run"]["produced"]["total"] == produced
    for path in ("firehose_lambda", "kinesis_glue"):
        assert report["paths"][path]["counts"]["unaccounted"] == 0, path
        assert report["paths"][path]["counts"]["delivered"] > 0, path
    # Without faults, every invocation of the function succeeds (its environment is the template's).
    assert report["paths"]["firehose_lambda"]["counts"]["invocation_failed"] == 0


def test_counts_match_the_sink_objects(run):
    out, report, _ = run
    curated, errors, _ = firehose_records(out / "sinks" / "firehose_lambda")
    firehose = report["paths"]["firehose_lambda"]["counts"]
    assert firehose["delivered"] == len(curated)
    assert firehose["processing_failed"] + firehose["invocation_failed"] == len(errors)
    glue = read_outputs(out / "sinks" / "kinesis_glue")
    counts = report["paths"]["kinesis_glue"]["counts"]
    assert (counts["delivered"], counts["quarantined"], counts["late"]) == (
        len(glue["curated"]),
        len(glue["quarantine"]),
        len(glue["late"]),
    )


def test_duplicates_pass_firehose_and_not_glue(run):
    out, report, _ = run
    rows = read_rows(out / "input" / "events.jsonl")
    resent = sum(1 for r in rows if r.get("duplicate_of") is not None)
    assert resent > 0
    curated, _, _ = firehose_records(out / "sinks" / "firehose_lambda")
    twice = sum(n - 1 for n in Counter(r["event_id"] for r in curated).values())
    assert report["paths"]["firehose_lambda"]["counts"]["duplicates_delivered"] == twice > 0
    assert report["paths"]["kinesis_glue"]["counts"]["duplicates_delivered"] == 0


def test_latencies_match_the_timestamps(run):
    out, report, _ = run
    ticks = {r["event_id"] for r in read_rows(out / "input" / "events.jsonl") if r["kind"] == "tick"}
    delivered = {
        "firehose_lambda": firehose_records(out / "sinks" / "firehose_lambda")[0],
        "kinesis_glue": read_outputs(out / "sinks" / "kinesis_glue")["curated"],
    }
    for path in ("firehose_lambda", "kinesis_glue"):
        samples = report["latency_samples_s"][path]
        latency = report["paths"][path]["latency_s"]
        assert samples and latency["max"] == max(samples) and latency["p50"] <= latency["p99"] <= latency["max"]
        # Every delivered record of the workload is timed; the harness's ticks are not.
        timed = [r for r in delivered[path] if r["event_id"] not in ticks]
        assert 0 < len(timed) == latency["count"] < report["paths"][path]["counts"]["delivered"]
        assert min(samples) > 0


def test_glue_capabilities_match_the_ground_truth(run):
    _, report, _ = run
    for capability in report["capabilities"]:
        glue = capability["kinesis_glue"]
        assert glue["expressible"]
        if glue["expected"]:
            assert glue["fraction"] == 1.0, capability["name"]
    firehose = {c["name"]: c["firehose_lambda"]["expressible"] for c in report["capabilities"]}
    assert firehose == {
        "cleansing": True,
        "enrichment": True,
        "dedup": False,
        "windowed_aggregates": False,
        "late_events": False,
        "stream_join": False,
    }


def test_report_files_and_sections(run):
    out, report, stdout = run
    assert report["schema_version"] == 2
    assert report["cost"]["monthly_usd"]["kinesis_glue"]["total"] > 0
    assert {c["verdict"] for c in report["claims"]} <= {"confirmed", "qualified", "contradicted", "not_measured"}
    markdown = (out / "report.md").read_text()
    for heading in ("## Counts and latency", "## Capabilities", "## Monthly cost", "Where the cheaper path changes"):
        assert heading in markdown
    assert all(c["title"] in markdown for c in report["capabilities"])
    assert (out / "report.html").read_text().count("<svg") == len(CHARTS)
    assert "report:" in stdout


def test_progress_and_memory_are_sampled(run):
    out, report, _ = run
    samples = [json.loads(line) for line in (out / "timings" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) >= 5
    last = samples[-1]["counts"]
    assert last["produced"] == report["run"]["produced"]["total"]
    assert last["firehose_received"] == last["produced"] and last["glue_records"] >= last["produced"]
    peaks = report["run"]["resources"]["peak_rss_mb"]
    # The Glue runner counts with its JVM: far above a bare Python process.
    assert peaks["glue_runner"] > 300 and peaks["kinesalite"] > 10 and peaks["harness"] > 50
    assert "Peak memory" in (out / "report.md").read_text()


CHARTS = ("chart-latency-cdf", "chart-latency-parts", "chart-progress", "chart-memory", "chart-cost")
CHROMIUM = Path("/usr/bin/chromium")
# As root in a closed network: no sandbox, and none of Chromium's background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_the_html_report_renders_in_chromium_with_every_chart(run):
    from playwright.sync_api import sync_playwright

    out, report, _ = run
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make setup` installs it (apt-get install chromium)"
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda message: problems.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
            page.goto((out / "report.html").as_uri())
            page.screenshot(path=str(out / "report.png"), full_page=True)
            charts = page.evaluate(
                """() => Array.from(document.querySelectorAll('figure.chart')).map(figure => {
                    const box = figure.querySelector('svg').getBoundingClientRect();
                    return {id: figure.id, width: box.width, height: box.height,
                            texts: Array.from(figure.querySelectorAll('svg text')).map(t => t.textContent)};
                })"""
            )
            tables = page.evaluate("() => Array.from(document.querySelectorAll('table')).map(t => t.id)")
            marks = page.evaluate("() => document.querySelectorAll('#capabilities .no, #capabilities .yes').length")
        finally:
            browser.close()
    assert problems == [], "the page logged errors or reached for the network"
    assert [chart["id"] for chart in charts] == list(CHARTS)
    for chart in charts:
        # Drawn at a readable size, with a title, axis labels and a legend naming both paths (or processes).
        assert chart["width"] > 400 and chart["height"] > 250, chart["id"]
        assert len(chart["texts"]) > 8, chart["id"]
    texts = {chart["id"]: " ".join(chart["texts"]) for chart in charts}
    for chart in ("chart-latency-cdf", "chart-progress", "chart-cost"):
        assert "Firehose + Lambda" in texts[chart] and "Kinesis + Glue streaming" in texts[chart], chart
    assert "p50" in texts["chart-latency-cdf"] and "log scale" in texts["chart-latency-cdf"]
    assert "RSS (MB)" in texts["chart-memory"] and "USD per month" in texts["chart-cost"]
    assert {"counts", "capabilities", "cost", "claims"} <= set(tables)
    assert marks == 2 * len(report["capabilities"])
    assert (out / "report.png").stat().st_size > 100_000


@pytest.fixture(scope="module")
def chaos_run(tmp_path_factory):
    # With KPL aggregation: a retried put and a replayed batch carry whole aggregates.
    args = ("--chaos", "--kpl-aggregation", "--duration", "40", "--rate", "100", "--glue-warm-up-batches", "0")
    out, report, _ = comparison_run(tmp_path_factory.mktemp("chaos"), *args, timeout=900)
    return out, report


def test_chaos_with_aggregation_every_user_record_is_still_accounted_for(chaos_run):
    out, report = chaos_run
    kpl = report["run"]["settings"]["kpl"]
    assert kpl["aggregation"] and kpl["kinesis_records"] < kpl["user_records"]
    assert kpl["firehose_aggregates_unpacked"] > 0 and kpl["firehose_aggregates_malformed"] == 0
    rows = read_rows(out / "input" / "events.jsonl")
    assert any(r.get("subsequence_number", 0) > 0 for r in rows)
    chaos = report["run"]["chaos"]
    assert chaos["glue_restarts"] >= 2
    assert chaos["lambda"]["raised"] > 0 and chaos["lambda"]["timed_out"] > 0
    assert chaos["kinesis_connections_refused"] > 0
    for path in ("firehose_lambda", "kinesis_glue"):
        assert report["paths"][path]["counts"]["unaccounted"] == 0, path
    assert report["paths"]["kinesis_glue"]["counts"]["duplicates_delivered"] == 0
    curated = read_outputs(out / "sinks" / "kinesis_glue")["curated"]
    assert len({r["event_id"] for r in curated}) == len(curated)
    reasons = Counter(r["reason"] for r in read_outputs(out / "sinks" / "kinesis_glue")["quarantine"])
    assert reasons["too_large"] > 0


@pytest.fixture(scope="module")
def locust_run(tmp_path_factory):
    args = ("--driver", "locust", "--users", "3", "--kpl-aggregation", "--duration", "10", "--rate", "100")
    args += ("--glue-warm-up-batches", "0")
    out, report, _ = comparison_run(tmp_path_factory.mktemp("locust"), *args)
    return out, report


def test_locust_driver_produces_the_workload_and_every_record_is_accounted_for(locust_run):
    out, report = locust_run
    driver = report["run"]["driver"]
    assert driver["name"] == "locust" and driver["users"] == 3 and driver["complete"]
    rows = read_rows(out / "input" / "events.jsonl")
    # Every scheduled event once (duplicates ride along), plus the harness's watermark tick.
    assert sum(r["kind"] != "tick" and r["duplicate_of"] is None for r in rows) == 100 * 10
    assert driver["requests"] > 0 and driver["records"] == sum(r["kind"] != "tick" for r in rows)
    for path in ("firehose_lambda", "kinesis_glue"):
        assert report["paths"][path]["counts"]["unaccounted"] == 0, path
    assert (out / "load" / "locust_stats.csv").exists()
    assert "locust users" in (out / "report.md").read_text()
    # The users sent KPL aggregates: user records share their aggregate's place in the stream.
    assert len({(r["shard_id"], r["sequence_number"]) for r in rows}) < len(rows)
    assert "KPL aggregation" in (out / "report.md").read_text()


def test_a_warm_up_record_goes_through_every_path_before_the_workload(run):
    out, report, _ = run
    rows = read_rows(out / "input" / "events.jsonl")
    first = min(rows, key=lambda r: r["sent_at_ms"])
    assert first["kind"] == "tick"
    warm = report["run"]["warm_up_s"]
    # Only the path that started a job is waited for (Firehose's buffers need no warming).
    assert warm["kinesis_glue"] is not None and warm["kinesis_glue"] > 0 and warm["firehose_lambda"] is None, warm
    # The job's first micro-batch with data held the warm-up record alone: the workload came after its commit.
    busy = [m for m in manifests(out / "sinks" / "kinesis_glue") if m["counts"]["records"]]
    assert busy[0]["counts"]["records"] == 1
    assert min(r["sent_at_ms"] for r in rows if r is not first) > busy[0]["committed_at_ms"]


def test_the_glue_job_warms_up_on_a_stream_of_its_own_before_it_starts(run, chaos_run):
    out, report, stdout = run
    assert "Glue: the job first warms its JVM with 3 micro-batches" in stdout
    warmed = report["run"]["settings"]["glue"]["jit_warm_up"]
    assert warmed["batches"] == 3 and 0 < warmed["first_s"] <= warmed["elapsed_s"], warmed
    assert "ran its pipeline for 3 micro-batches" in (out / "report.md").read_text()
    # None of the warm-up's records reached the job's outputs: its first micro-batch read the one warm-up record.
    busy = [m for m in manifests(out / "sinks" / "kinesis_glue") if m["counts"]["records"]]
    assert busy[0]["counts"]["records"] == 1
    chaos_out, chaos_report = chaos_run
    assert chaos_report["run"]["settings"]["glue"]["jit_warm_up"] is None
    assert "ran its pipeline for" not in (chaos_out / "report.md").read_text()


def test_the_advice_and_the_study_read_the_report_the_run_wrote(run):
    from comparison import advise
    from comparison.study.evidence import load_report

    out, _, _ = run
    assert load_report(out / "report.json")["schema_version"] == 2
    advise.Evidence.gather(out / "report.json")
