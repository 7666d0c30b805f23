"""The words of `comparison advise`: its sentences in English and Korean, and the answer as plain text."""

from __future__ import annotations

from typing import Any

TEXT = {
    "en": {
        "titles": {
            "firehose_lambda": "Firehose + Lambda",
            "kinesis_glue": "Kinesis + Glue streaming",
            "managed_flink": "Managed Service for Apache Flink (modelled from documentation, not run)",
        },
        "workload": "Workload: {rate:,.0f} events/s of {bytes:,} bytes; latency goal {slo}; needs {needs} ({region}).",
        "fits": "fits",
        "no_fit": "does not fit",
        "cannot": "cannot express: {what}",
        "record_limit": "records of {bytes:,} bytes exceed its {limit:,}-byte record limit",
        "slo_missed": "cannot reach {slo}: at best {best}",
        "latency": "latency: about {expected} ({source})",
        "settings": "settings: {settings}",
        "cost": "cost: ${usd:,.2f} a month",
        "advice": "Advice: {choice}, the cheapest of the options that fit.",
        "none": "Advice: no option fits every requirement; see why above.",
        "map": "Decision map (cheapest option that fits, by rate and record size): {path}",
        "change": "  {bytes:,}-byte records: {before} up to {low:,.0f} events/s, {after} from {high:,.0f}",
        "changes": "Where the cheapest option that fits changes:",
        "nothing_needed": "none beyond delivery",
        "src_firehose_measured": "the two intervals plus the p99 measured at zero buffering, {report}",
        "src_firehose_documented": "the two intervals plus a few seconds at zero buffering (documented; 5 s assumed)",
        "src_glue": "one window plus the micro-batch p99 measured locally, {report} (2 cores; on AWS Glue it differs)",
        "src_flink": "documented latency class (sub-second); modelled, not run",
    },
    "ko": {
        "titles": {
            "firehose_lambda": "Firehose + Lambda",
            "kinesis_glue": "Kinesis + Glue 스트리밍",
            "managed_flink": "Managed Service for Apache Flink (문서 기반 모델, 실행하지 않음)",
        },
        "workload": "워크로드: 초당 {rate:,.0f}건, 레코드 {bytes:,}바이트, 지연 목표 {slo}, "
        "요구 사항 {needs} ({region}).",
        "fits": "적합",
        "no_fit": "부적합",
        "cannot": "표현할 수 없음: {what}",
        "record_limit": "레코드 {bytes:,}바이트가 레코드 한도 {limit:,}바이트를 넘습니다",
        "slo_missed": "{slo} 목표에 도달할 수 없음: 최선은 {best}",
        "latency": "지연: 약 {expected} ({source})",
        "settings": "설정: {settings}",
        "cost": "비용: 월 ${usd:,.2f}",
        "advice": "권장: {choice} (적합한 선택지 중 가장 저렴함).",
        "none": "권장: 모든 요구 사항을 만족하는 선택지가 없습니다. 위의 이유를 보십시오.",
        "map": "결정 지도(레코드 크기와 처리량별로 적합한 선택지 중 가장 저렴한 것): {path}",
        "change": "  {bytes:,}바이트 레코드: 초당 {low:,.0f}건까지 {before}, 초당 {high:,.0f}건부터 {after}",
        "changes": "적합한 선택지 중 가장 저렴한 것이 바뀌는 곳:",
        "nothing_needed": "전달 외 없음",
        "src_firehose_measured": "두 버퍼 간격 + 버퍼링 0에서 측정한 p99, {report}",
        "src_firehose_documented": "두 버퍼 간격 + 버퍼링 0에서 몇 초(문서 기준, 5초로 가정)",
        "src_glue": "윈도 하나 + 로컬에서 측정한 마이크로 배치 p99, {report} (2코어, AWS Glue에서는 다름)",
        "src_flink": "문서에 나온 지연 등급(1초 미만), 모델일 뿐 실행하지 않음",
    },
}


def duration(seconds: float) -> str:
    """A duration for a reader: milliseconds under a second, else seconds."""
    return f"{seconds * 1000:,.0f} ms" if seconds < 1 else f"{seconds:,.1f} s"


def plain_text(answer: dict[str, Any], lang: str = "en") -> str:
    """The answer for a terminal."""
    text = TEXT[lang]
    request = answer["request"]
    needs = ", ".join(request["needs"]) or text["nothing_needed"]
    lines = [
        text["workload"].format(
            rate=request["rate"],
            bytes=request["record_bytes"],
            slo=duration(request["latency_slo_s"]),
            needs=needs,
            region=request["region"],
        ),
        "",
    ]
    for option in answer["options"]:
        verdict = text["fits"] if option["fits"] else text["no_fit"]
        lines.append(f"{text['titles'][option['name']]}: {verdict}")
        lines += [f"  - {reason}" for reason in option["reasons"]]
        lines.append(
            "  "
            + text["latency"].format(expected=duration(option["expected_latency_s"]), source=option["latency_source"])
        )
        settings = ", ".join(f"{k}={v}" for k, v in option["settings"].items())
        lines.append("  " + text["settings"].format(settings=settings))
        lines.append("  " + text["cost"].format(usd=option["usd_per_month"]))
        lines += [f"      {line['service']}: {line['arithmetic']} ({line['status']})" for line in option["lines"]]
        lines.append("")
    advice = answer["advice"]
    lines.append(text["advice"].format(choice=text["titles"][advice]) if advice else text["none"])
    changes = answer["decision_map"]["changes"]
    if changes:
        lines += ["", text["changes"]]
        for change in changes:
            low, high = change["between_events_per_s"]
            before, after = (text["titles"][n] if n else text["no_fit"] for n in (change["from"], change["to"]))
            lines.append(
                text["change"].format(bytes=change["record_bytes"], before=before, after=after, low=low, high=high)
            )
    return "\n".join(lines)
