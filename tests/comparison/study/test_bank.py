"""The question bank: complete in both languages, one answer per question, every figure sourced."""

from __future__ import annotations

import re

import pytest

from comparison.study.bank import PLACEHOLDER, load_bank, parse_bank, render
from comparison.study.evidence import LANGS

BANK = load_bank()
# Digits inside a word (base64, x86_64) are names, not figures.
NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?:[.,]\d+)*")
HANGUL = re.compile(r"[가-힣]")
SEED_OPTIONS = [
    "Amazon Kinesis Firehose with Lambda functions",
    "AWS Glue Streaming ETL Jobs with Kinesis Data Streams",
    "AWS Step Functions with AWS Batch",
    "Amazon S3 with scheduled Lambda functions",
    "AWS Data Pipeline with EMR clusters",
]


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(PLACEHOLDER.sub("", text)))


def test_bank_has_at_least_30_questions_with_unique_ids_on_every_topic():
    ids = [question.id for question in BANK.questions]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)
    assert {question.topic for question in BANK.questions} == set(BANK.topics)


@pytest.mark.parametrize("question", BANK.questions, ids=lambda q: q.id)
def test_every_question_is_complete_in_both_languages(question):
    assert sum(option.correct for option in question.options) == 1
    for lang in LANGS:
        assert question.text[lang].strip()
        assert len([option.text[lang] for option in question.options]) == len(question.options)
        for option in question.options:
            assert option.text[lang].strip() and option.why[lang].strip()
    # The Korean text is a translation, not the English left in place.
    assert HANGUL.search(question.text["ko"])
    assert all(HANGUL.search(option.why["ko"]) for option in question.options)
    # A placeholder in one language is in the other too: both quote the same figures.
    for option in question.options:
        assert set(PLACEHOLDER.findall(option.why["en"])) == set(PLACEHOLDER.findall(option.why["ko"]))
    assert question.sources and all(source.startswith("https://") for source in question.sources)


def test_the_seed_notes_question_is_in_the_bank_with_its_five_options():
    question = next(q for q in BANK.questions if q.id == "seed-iot-joins-aggregations")
    assert question.text["en"].startswith("A company needs to process terabytes of streaming data from IoT devices")
    assert [option.text["en"] for option in question.options] == SEED_OPTIONS
    assert question.letters[question.answer] == "B"


@pytest.mark.parametrize("question", BANK.questions, ids=lambda q: q.id)
def test_no_unsourced_number_in_an_explanation(question):
    """A number in an explanation is a documented fact (the bank's facts, each with a source), or the
    scenario's own number (from the question or an option); measured figures come only from placeholders."""
    documented = set().union(*(numbers(fact["text"]) for fact in BANK.facts))
    scenario = set().union(*(numbers(question.text[lang]) for lang in LANGS))
    scenario |= set().union(*(numbers(option.text[lang]) for option in question.options for lang in LANGS))
    for option in question.options:
        for lang in LANGS:
            unsourced = numbers(option.why[lang]) - documented - scenario
            assert not unsourced, f"{question.id} ({lang}): {sorted(unsourced)} in {option.why[lang]!r}"


def test_every_fact_and_fallback_names_its_source_and_has_only_documented_numbers():
    documented = set().union(*(numbers(fact["text"]) for fact in BANK.facts))
    assert all(fact["source"].startswith("https://") for fact in BANK.facts)
    for figure in BANK.figures.values():
        assert figure.source.startswith("https://")
        for lang in LANGS:
            assert numbers(figure.fallback[lang]) <= documented, (figure.path, lang)


def test_every_figure_in_the_registry_is_quoted_somewhere():
    used = {
        path
        for question in BANK.questions
        for option in question.options
        for path in PLACEHOLDER.findall(option.why["en"])
    }
    assert used == set(BANK.figures)


def test_render_quotes_the_report_with_its_profile_and_date(report):
    text = "median {report:paths.kinesis_glue.latency_s.p50}."
    assert render(text, BANK.figures, report, "en") == "median 8.50 s (measured, profile quick, date 2026-11-28)."
    assert render(text, BANK.figures, report, "ko") == "median 8.50초 (측정값, 프로필 quick, 날짜 2026-11-28)."


def test_render_falls_back_to_the_documented_text_without_a_report_or_without_the_figure(report):
    text = "{report:paths.kinesis_glue.startup_s}"
    figure = BANK.figures["paths.kinesis_glue.startup_s"]
    expected = f"{figure.fallback['en']} [documented, source: {figure.source}]"
    assert render(text, BANK.figures, None, "en") == expected
    del report["paths"]["kinesis_glue"]["startup_s"]
    assert render(text, BANK.figures, report, "en") == expected
    assert render(text, BANK.figures, None, "ko").endswith(f"[문서 기준, 출처: {figure.source}]")


def test_render_formats_each_kind_of_figure(report):
    def show(path: str, lang: str = "en") -> str:
        return render("{report:" + path + "}", BANK.figures, report, lang).split(" (")[0]

    assert show("cost.monthly_usd.kinesis_glue.total") == "$172.50"
    assert show("paths.firehose_lambda.counts.duplicates_delivered") == "57"
    assert show("paths.firehose_lambda.counts.duplicates_delivered", "ko") == "57건"
    assert show("capabilities.dedup.kinesis_glue.fraction") == "100.0%"
    assert show("cost.crossovers.0.events_per_s") == "1,234.5 events/s"
    assert show("cost.crossovers.0.record_bytes", "ko") == "200바이트"


def _raw_bank() -> dict:
    return {
        "topics": {"t": {"en": "T", "ko": "티"}},
        "facts": [],
        "figures": {},
        "questions": [
            {
                "id": "q",
                "topic": "t",
                "question": {"en": "Q?", "ko": "질문?"},
                "options": [
                    {"text": {"en": "a", "ko": "가"}, "why": {"en": "yes", "ko": "예"}, "correct": True},
                    {"text": {"en": "b", "ko": "나"}, "why": {"en": "no", "ko": "아니오"}, "correct": False},
                ],
                "sources": ["https://docs.aws.amazon.com/"],
            }
        ],
    }


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda raw: raw["questions"][0]["options"][1].update(correct=True), "exactly one correct"),
        (lambda raw: raw["questions"][0]["options"][1]["why"].pop("ko"), "non-empty text"),
        (lambda raw: raw["questions"][0].update(topic="nope"), "unknown topic"),
        (lambda raw: raw["questions"].append(dict(raw["questions"][0])), "duplicate question ids"),
        (lambda raw: raw["questions"][0]["options"][0]["why"].update(en="{report:x.y}"), "no entry in figures"),
        (lambda raw: raw["questions"][0].update(sources=[]), "https sources"),
    ],
)
def test_a_broken_bank_is_refused_with_the_reason(breakage, message):
    raw = _raw_bank()
    parse_bank(raw)
    breakage(raw)
    with pytest.raises(ValueError, match=message):
        parse_bank(raw)
