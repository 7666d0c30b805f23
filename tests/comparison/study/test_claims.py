"""The seed note's claims against reports built to give each verdict of each rule."""

from __future__ import annotations

from typing import Any

import pytest

from comparison.study.claims import check_claims, claims_data, claims_markdown

from .conftest import CAPABILITIES, write_report

# The trade-off lists of the seed note, word for word (glue-streaming-etl-realtime-largescale.md).
NOTE = {
    ("kinesis_glue", "pro"): [
        "Apache Spark 기반의 강력한 분산 처리 능력",
        "완전한 ETL 기능 (Extract, Transform, Load) 지원",
        "서버리스 환경에서 자동 스케일링",
        "복잡한 변환 로직 구현 가능",
        "다양한 데이터 소스 및 대상 지원",
    ],
    ("kinesis_glue", "con"): [
        "진정한 실시간이 아닌 마이크로배치 방식 (초~분 단위 지연)",
        "콜드 스타트로 인한 초기 지연 시간",
        "Kinesis Data Streams 대비 상대적으로 높은 비용",
    ],
    ("firehose_lambda", "pro"): [
        "진정한 실시간 스트리밍 처리",
        "간단한 설정과 관리",
        "낮은 지연시간 (초 단위)",
        "비용 효율적",
    ],
    ("firehose_lambda", "con"): [
        "제한적인 변환 기능 (Lambda 함수나 외부 서비스 의존)",
        "복잡한 ETL 로직 구현 어려움",
        "조인, 집계 등 고급 변환 기능 부족",
    ],
}


def latency(path: str, p50: float | None, p99: float | None = None, startup: float | None = None) -> dict:
    figures = {key: value for key, value in (("p50", p50), ("p99", p99)) if value is not None}
    report: dict[str, Any] = {"run": {"profile": "quick", "mode": "local"}, "paths": {path: {"latency_s": figures}}}
    if startup is not None:
        report["paths"][path]["startup_s"] = startup
    return report


def kept_up(unaccounted: int) -> dict:
    return {
        "run": {"mode": "local", "produced": {"total": 12000}, "duration_s": 120.0},
        "paths": {"kinesis_glue": {"counts": {"unaccounted": unaccounted}}},
    }


def cost(firehose: float, glue: float, crossovers: list | None = None) -> dict:
    section: dict[str, Any] = {"monthly_usd": {"firehose_lambda": {"total": firehose}, "kinesis_glue": {"total": glue}}}
    if crossovers is not None:
        section["crossovers"] = crossovers
    return {"cost": section}


def caps(path: str, **overrides: tuple[bool, float | None]) -> dict:
    """Every capability expressible and fully matched on `path`, except the overrides (expressible, fraction)."""
    entries = []
    for name in CAPABILITIES:
        expressible, fraction = overrides.get(name, (True, 1.0))
        entries.append({"name": name, path: {"expressible": expressible, "fraction": fraction}})
    return {"capabilities": entries}


CROSSING = [{"record_bytes": 200, "events_per_s": 1234.5}]
FULL_CAPS = {"firehose": caps("firehose_lambda"), "glue": caps("kinesis_glue")}
NO_FH = {name: (False, None) for name in ("dedup", "windowed_aggregates", "late_events", "stream_join")}

CASES = [
    ("firehose-true-real-time", latency("firehose_lambda", 0.3, 0.8), "confirmed"),
    ("firehose-true-real-time", latency("firehose_lambda", 0.5, 2.0), "qualified"),
    ("firehose-true-real-time", latency("firehose_lambda", 0.5), "qualified"),
    ("firehose-true-real-time", latency("firehose_lambda", 1.0, 3.0), "contradicted"),
    ("firehose-true-real-time", {}, "not_measured"),
    ("glue-not-real-time", latency("kinesis_glue", 5.0, 20.0), "confirmed"),
    ("glue-not-real-time", latency("kinesis_glue", 0.5, 3.0), "qualified"),
    ("glue-not-real-time", latency("kinesis_glue", 0.2, 0.6), "contradicted"),
    ("glue-not-real-time", latency("firehose_lambda", 5.0, 20.0), "not_measured"),
    ("firehose-low-latency-seconds", latency("firehose_lambda", 2.0, 10.0), "confirmed"),
    ("firehose-low-latency-seconds", latency("firehose_lambda", 20.0, 90.0), "qualified"),
    ("firehose-low-latency-seconds", latency("firehose_lambda", 65.0, 300.0), "contradicted"),
    ("firehose-low-latency-seconds", {}, "not_measured"),
    ("glue-cold-start", latency("kinesis_glue", 5.0, startup=30.0), "confirmed"),
    ("glue-cold-start", latency("kinesis_glue", 5.0, startup=7.0), "qualified"),
    ("glue-cold-start", latency("kinesis_glue", 5.0, startup=4.0), "contradicted"),
    ("glue-cold-start", latency("kinesis_glue", 5.0, 9.0), "not_measured"),
    ("glue-spark-distributed", kept_up(0), "qualified"),
    ("glue-spark-distributed", kept_up(3), "contradicted"),
    ("glue-spark-distributed", {}, "not_measured"),
    ("firehose-cost-efficient", cost(10.0, 200.0, []), "confirmed"),
    ("firehose-cost-efficient", cost(10.0, 200.0, CROSSING), "qualified"),
    ("firehose-cost-efficient", cost(10.0, 200.0), "qualified"),
    ("firehose-cost-efficient", cost(300.0, 200.0, CROSSING), "contradicted"),
    ("firehose-cost-efficient", {"cost": {"monthly_usd": {"firehose_lambda": {"total": 1.0}}}}, "not_measured"),
    ("glue-higher-cost", cost(10.0, 200.0, []), "confirmed"),
    ("glue-higher-cost", cost(10.0, 200.0, CROSSING), "qualified"),
    ("glue-higher-cost", cost(300.0, 200.0, []), "contradicted"),
    ("glue-higher-cost", {}, "not_measured"),
    ("glue-full-etl", FULL_CAPS["glue"], "confirmed"),
    ("glue-full-etl", caps("kinesis_glue", late_events=(True, 0.9)), "qualified"),
    ("glue-full-etl", caps("kinesis_glue", dedup=(True, None)), "qualified"),
    ("glue-full-etl", caps("kinesis_glue", stream_join=(False, None)), "contradicted"),
    ("glue-full-etl", FULL_CAPS["firehose"], "not_measured"),
    ("glue-complex-transforms", FULL_CAPS["glue"], "confirmed"),
    ("glue-complex-transforms", caps("kinesis_glue", stream_join=(True, 0.5)), "qualified"),
    ("glue-complex-transforms", caps("kinesis_glue", dedup=(False, None)), "contradicted"),
    ("glue-complex-transforms", {}, "not_measured"),
    ("firehose-limited-transforms", caps("firehose_lambda", **NO_FH), "confirmed"),
    ("firehose-limited-transforms", caps("firehose_lambda", dedup=(True, 0.8)), "qualified"),
    ("firehose-limited-transforms", FULL_CAPS["firehose"], "contradicted"),
    ("firehose-limited-transforms", FULL_CAPS["glue"], "not_measured"),
    ("firehose-complex-etl-hard", caps("firehose_lambda", stream_join=(False, None)), "confirmed"),
    ("firehose-complex-etl-hard", caps("firehose_lambda", windowed_aggregates=(True, 0.5)), "qualified"),
    ("firehose-complex-etl-hard", caps("firehose_lambda", cleansing=(False, None)), "contradicted"),
    ("firehose-complex-etl-hard", {}, "not_measured"),
    ("firehose-no-joins-aggregations", caps("firehose_lambda", **NO_FH), "confirmed"),
    ("firehose-no-joins-aggregations", caps("firehose_lambda", stream_join=(False, None)), "qualified"),
    ("firehose-no-joins-aggregations", caps("firehose_lambda", stream_join=(True, 0.7)), "qualified"),
    ("firehose-no-joins-aggregations", FULL_CAPS["firehose"], "contradicted"),
    ("firehose-no-joins-aggregations", {}, "not_measured"),
]
UNMEASURABLE = ["glue-serverless-autoscaling", "glue-many-sources-targets", "firehose-simple-setup"]


def judged(report: dict, claim_id: str) -> dict:
    return next(claim for claim in check_claims(report) if claim["id"] == claim_id)


@pytest.mark.parametrize(("claim_id", "report", "verdict"), CASES, ids=[f"{c}-{v}" for c, _, v in CASES])
def test_each_rule_gives_each_of_its_verdicts(claim_id, report, verdict):
    claim = judged(report, claim_id)
    assert claim["verdict"] == verdict
    for lang in ("en", "ko"):
        assert claim["conditions"][lang].strip() and "{" not in claim["conditions"][lang]


def test_every_claim_has_a_case_for_each_verdict_its_rule_can_give():
    covered = {(claim_id, verdict) for claim_id, _, verdict in CASES}
    for spec in claims_data()["claims"]:
        if spec["id"] in UNMEASURABLE:
            continue
        verdicts = {v for c, v in covered if c == spec["id"]}
        expected = {"qualified", "contradicted", "not_measured"}
        if spec["rule"] != "kept_up":  # one run never confirms "any scale": see the rule
            expected.add("confirmed")
        assert verdicts == expected, spec["id"]


@pytest.mark.parametrize("claim_id", UNMEASURABLE)
def test_claims_no_run_measures_are_not_measured_with_the_reason(claim_id, report):
    claim = judged(report, claim_id)
    assert claim["verdict"] == "not_measured"
    assert claim["evidence"] == {}
    assert "Not measured" not in claim["conditions"]["en"]  # the claim's own reason, not the generic text


def test_the_claims_are_every_claim_of_the_notes_trade_off_lists():
    claims = check_claims({})
    listed = {key: [c["claim"]["ko"] for c in claims if (c["path"], c["side"]) == key] for key in NOTE}
    assert listed == NOTE
    assert len({claim["id"] for claim in claims}) == len(claims)
    assert {claim["verdict"] for claim in claims} == {"not_measured"}
    assert all(claim["claim"]["en"] and claim["rule"]["en"] and claim["rule"]["ko"] for claim in claims)


def test_the_figures_used_are_in_the_evidence_and_the_conditions(report):
    real_time = judged(report, "firehose-true-real-time")
    assert real_time["verdict"] == "contradicted"
    assert real_time["evidence"]["paths.firehose_lambda.latency_s.p50"] == 1.2
    assert "1.20 s" in real_time["conditions"]["en"] and "1.20초" in real_time["conditions"]["ko"]

    efficient = judged(report, "firehose-cost-efficient")
    assert efficient["verdict"] == "qualified"
    assert efficient["evidence"]["cost.monthly_usd.firehose_lambda.total"] == 12.3
    assert "$12.30" in efficient["conditions"]["en"] and "$172.50" in efficient["conditions"]["en"]
    assert "1,234.5 events/s for 200-byte records" in efficient["conditions"]["en"]
    assert "200바이트 레코드는 초당 1,234.5건" in efficient["conditions"]["ko"]

    cold = judged(report, "glue-cold-start")
    assert cold["verdict"] == "confirmed"
    assert cold["evidence"]["paths.kinesis_glue.startup_s"] == 30.0

    missing = judged({}, "glue-cold-start")
    assert "paths.kinesis_glue.startup_s" in missing["conditions"]["en"]


def test_the_sample_report_gives_the_expected_picture(report):
    verdicts = {claim["id"]: claim["verdict"] for claim in check_claims(report)}
    assert verdicts["firehose-true-real-time"] == "contradicted"
    assert verdicts["firehose-low-latency-seconds"] == "confirmed"
    assert verdicts["firehose-no-joins-aggregations"] == "confirmed"
    assert verdicts["glue-full-etl"] == "confirmed"
    assert verdicts["glue-higher-cost"] == "qualified"


def test_claims_markdown_in_both_languages(report):
    claims = check_claims(report)
    english = claims_markdown(claims)
    assert english.startswith("## The study note's claims, checked against this run\n")
    rows = [line for line in english.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(claims) + 1
    assert "**contradicted**" in english and "`paths.firehose_lambda.latency_s.p50` = 1.2" in english
    korean = claims_markdown(claims, lang="ko")
    assert "## 학습 노트의 주장, 이번 실행으로 검증" in korean and "**반박됨**" in korean
    assert "진정한 실시간 스트리밍 처리" in korean
    with pytest.raises(ValueError, match="unknown language"):
        claims_markdown(claims, lang="fr")


def test_markdown_cells_escape_pipes(report):
    claims = check_claims(report)
    claims[0]["conditions"]["en"] = "a | b"
    assert "a \\| b" in claims_markdown(claims)


def test_study_claims_prints_the_check_of_a_report(study, tmp_path, report):
    path = write_report(tmp_path / "r" / "report.json", report)
    result = study("--claims", "--report", str(path))
    assert result.code == 0, result.err
    assert f"Measured figures from {path}" in result.out
    assert "| Firehose + Lambda | advantage | True real-time streaming processing | **contradicted** |" in result.out
    korean = study("--claims", "--lang", "ko", "--report", str(path))
    assert "**반박됨**" in korean.out


def test_study_claims_without_a_report_says_so(study):
    result = study("--claims")
    assert result.code == 0
    assert "No report found (runs/*/report.json, or --report PATH)" in result.out
    assert result.out.count("**not measured**") == len(claims_data()["claims"])
