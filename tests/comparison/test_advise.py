"""`comparison advise` on a hand-made report: requirements, latency settings, costs from the model, errors."""

from __future__ import annotations

import json

import pytest

from comparison import advise
from comparison.cli import main
from comparison.cost import estimate
from comparison.cost_workload import Workload


@pytest.fixture
def report_path(tmp_path):
    report = {
        "schema_version": 2,
        "run": {"settings": {"firehose": {"processor_interval_s": 0.0, "delivery_interval_s": 0.0}}},
        "paths": {
            "firehose_lambda": {"latency_s": {"p50": 0.6, "p99": 1.2}},
            "kinesis_glue": {"micro_batch_s": {"p50": 5.0, "p99": 7.0}},
        },
        "cost": {
            "measured_inputs": {
                "glue_events_per_s_per_worker": 2400.0,
                "glue_events_per_s_per_worker_source": "make bench",
                "lambda_ms_per_record": 0.1,
            }
        },
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    return path


def answer(report_path, rate=2000.0, size=800, slo="60s", needs="dedup,windows,join"):
    request = advise.Request(rate, size, advise.parse_duration(slo), advise.parse_needs(needs))
    return advise.advise(request, advise.Evidence.gather(report_path))


def by_name(result):
    return {option["name"]: option for option in result["options"]}


@pytest.mark.parametrize(("text", "seconds"), [("500ms", 0.5), ("60s", 60), ("5m", 300), ("1h", 3600), ("90", 90)])
def test_durations(text, seconds):
    assert advise.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 parsecs", "0s", "-1s", "9" * 400, "2d", "25h"])
def test_a_bad_duration_says_what_is_allowed(text):
    with pytest.raises(advise.AdviceError, match=r"500ms, 60s, 5m|more than 0 seconds and at most a day"):
        advise.parse_duration(text)


def test_firehose_cannot_express_state_and_the_cheapest_fitting_option_is_advised(report_path):
    result = answer(report_path)
    options = by_name(result)
    assert not options["firehose_lambda"]["fits"]
    assert "dedup, windows, join" in options["firehose_lambda"]["reasons"][0]
    assert options["kinesis_glue"]["fits"] and options["managed_flink"]["fits"]
    assert options["managed_flink"]["modelled"] and not options["kinesis_glue"]["modelled"]
    fitting = [o for o in result["options"] if o["fits"]]
    assert result["advice"] == min(fitting, key=lambda o: o["usd_per_month"])["name"]


def test_settings_meet_the_goal_and_costs_are_the_cost_models(report_path):
    options = by_name(answer(report_path, rate=150, size=200, slo="30s", needs=""))
    firehose = options["firehose_lambda"]
    settings = firehose["settings"]
    # Both intervals fit in what the goal leaves after the measured overhead (p99 1.2 s at zero buffering).
    assert settings["ProcessorBufferIntervalSeconds"] + settings["DeliveryBufferIntervalSeconds"] <= 30 - 1.2
    assert firehose["expected_latency_s"] <= 30 and firehose["fits"]
    workload = Workload(
        events_per_s=150,
        record_size_bytes=200,
        lambda_ms_per_record=0.1,
        processor_interval_s=settings["ProcessorBufferIntervalSeconds"],
        delivery_interval_s=settings["DeliveryBufferIntervalSeconds"],
    )
    assert firehose["usd_per_month"] == pytest.approx(estimate(workload).firehose_lambda.usd_per_month)
    glue = options["kinesis_glue"]
    assert glue["settings"]["GlueWindowSize"] == "23 seconds" and glue["expected_latency_s"] == 30
    assert glue["settings"]["NumberOfWorkers"] == 2


def test_a_sub_second_goal_fits_nothing(report_path):
    result = answer(report_path, slo="500ms", needs="")
    assert result["advice"] is None
    assert all(not option["fits"] for option in result["options"])
    assert "at best" in by_name(result)["firehose_lambda"]["reasons"][0]


def test_records_over_firehoses_limit_but_within_kinesiss(report_path):
    options = by_name(answer(report_path, rate=10, size=1_040_000, needs=""))
    assert any("1,024,000-byte record limit" in reason for reason in options["firehose_lambda"]["reasons"])
    assert options["kinesis_glue"]["fits"]


def test_the_decision_map_marks_where_the_cheapest_fitting_option_changes(report_path):
    result = answer(report_path, rate=300, slo="30s", needs="")
    grid = result["decision_map"]
    assert len(grid["cheapest"]) == len(grid["sizes"]) and all(len(r) == len(grid["rates"]) for r in grid["cheapest"])
    assert {cell for row in grid["cheapest"] for cell in row} == {"firehose_lambda", "kinesis_glue"}
    change = next(c for c in grid["changes"] if c["record_bytes"] == 200)
    assert (change["from"], change["to"]) == ("firehose_lambda", "kinesis_glue")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rate", "-5"], "--rate must be a number of events per second above 0"),
        (["--record-bytes", "2000000"], "--record-bytes must be 1 to 1,048,576"),
        (["--needs", "dedup,teleport"], "unknown requirement 'teleport': choose from cleansing"),
        (["--latency-slo", "soon"], "--latency-slo 'soon'"),
        (["--region", "mars-north-1"], "mars-north-1"),
    ],
)
def test_impossible_inputs_are_clear_errors(report_path, tmp_path, argv, message, capsys):
    base = {"--rate": "100", "--record-bytes": "800", "--latency-slo": "60s", "--needs": "dedup"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    args = [item for pair in base.items() for item in pair]
    assert main(["advise", *args, "--report", str(report_path), "--map", str(tmp_path / "m.svg")]) == 2
    assert message in capsys.readouterr().err


def test_the_command_prints_plain_text_json_and_korean_and_writes_the_map(report_path, tmp_path, capsys):
    args = ["advise", "--rate", "2000", "--record-bytes", "800", "--latency-slo", "60s", "--needs", "join"]
    args += ["--report", str(report_path), "--map", str(tmp_path / "map.svg")]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Firehose + Lambda: does not fit" in text and "modelled from documentation, not run" in text
    assert (tmp_path / "map.svg").read_text().startswith("<svg")
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["advice"] in ("kinesis_glue", "managed_flink")
    assert main([*args, "--lang", "ko"]) == 0
    korean = capsys.readouterr().out
    assert "부적합" in korean and "두 버퍼 간격" in korean and "does not fit" not in korean


def test_without_a_report_it_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["advise", "--rate", "10", "--record-bytes", "100", "--latency-slo", "60s", "--map", "m.svg"]
    assert main(args) == 2
    assert "run `make compare` first" in capsys.readouterr().err


def test_a_report_without_the_measured_figures_is_a_clear_error(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema_version": 2, "run": {}, "paths": {}, "cost": {}}))
    with pytest.raises(advise.AdviceError, match=r"lacks 'settings'.*run `make compare` again"):
        advise.Evidence.gather(path)
