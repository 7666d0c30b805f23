"""`python -m comparison study` driven as a script: answers given up front or piped, in both languages."""

from __future__ import annotations

import io
import json

import pytest

from comparison.study.bank import load_bank
from comparison.study.quiz import STATE_ENV, Session, load_missed, run_quiz, select, state_dir

from .conftest import write_report

BANK = load_bank()
FIRST_TWO = BANK.questions[:2]


def right(question) -> str:
    return question.letters[question.answer]


def wrong(question) -> str:
    return question.letters[(question.answer + 1) % len(question.options)]


def test_answers_given_up_front_are_scored_and_every_option_explained(study):
    first, second = FIRST_TWO
    result = study("--count", "2", "--answer", f"1={right(first)},2={wrong(second)}")
    assert result.code == 0, result.err
    assert "Question 1/2" in result.out and "Question 2/2" in result.out
    assert first.text["en"] in result.out
    for question in FIRST_TWO:
        for letter, option in zip(question.letters, question.options, strict=True):
            assert f"  {letter}) {option.text['en']}" in result.out
            assert f"  {letter}) {'✓' if option.correct else '✗'} " in result.out
    assert "Correct." in result.out
    assert f"Not this time: the answer is {right(second)}." in result.out
    assert "Score: 1/2 (50%)" in result.out
    assert f"Missed: {second.id}." in result.out


def test_answers_on_stdin_in_korean(study):
    first, second = FIRST_TWO
    result = study("--lang", "ko", "--count", "2", stdin=f"{right(first).lower()}\n {right(second)} \n")
    assert result.code == 0, result.err
    assert "문제 1/2" in result.out and first.text["ko"] in result.out
    assert f"선택한 답: {right(first)}" in result.out
    assert result.out.count("정답입니다.") == 2
    assert "점수: 2/2 (100%)" in result.out
    for option in first.options:
        assert option.why["ko"].split("{")[0] in result.out


def test_answers_by_question_id_and_the_seed_question_in_korean(study):
    result = study("--lang", "ko", "--count", "1", "--answer", "seed-iot-joins-aggregations=A")
    assert result.code == 0, result.err
    assert "아쉽네요. 정답은 B입니다." in result.out
    assert "점수: 0/1 (0%)" in result.out


def test_review_asks_exactly_the_missed_questions_and_forgets_them_once_right(study):
    questions = BANK.questions[:4]
    answers = [right(questions[0]), wrong(questions[1]), right(questions[2]), wrong(questions[3])]
    assert study("--count", "4", stdin="\n".join(answers) + "\n").code == 0
    assert load_missed() == [questions[1].id, questions[3].id]

    review = study("--review", "--answer", f"1={right(questions[1])},2={wrong(questions[3])}")
    assert review.code == 0, review.err
    assert "Question 1/2" in review.out and f"· {questions[1].id}" in review.out
    assert f"· {questions[3].id}" in review.out
    assert questions[0].id not in review.out and questions[2].id not in review.out
    assert load_missed() == [questions[3].id]

    assert study("--review", "--answer", f"1={right(questions[3])}").code == 0
    nothing = study("--review")
    assert nothing.code == 0 and "Nothing to review" in nothing.out


def test_state_lives_in_the_users_state_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(STATE_ENV)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "etl-showdown"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "etl-showdown"


def test_a_corrupt_state_file_counts_as_nothing_missed(study, tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "study.json").write_text("{not json")
    assert load_missed() == []
    first = BANK.questions[0]
    assert study("--count", "1", "--answer", f"1={wrong(first)}").code == 0
    assert json.loads((tmp_path / "state" / "study.json").read_text())["missed"] == [first.id]


def test_seed_shuffles_reproducibly_topic_and_count_filter():
    with pytest.raises(ValueError, match="unknown topic 'nope'; topics: latency-classes"):
        select(BANK, topic="nope")
    order = [q.id for q in select(BANK, seed=3)]
    assert order == [q.id for q in select(BANK, seed=3)]
    assert order != [q.id for q in BANK.questions] and sorted(order) == sorted(q.id for q in BANK.questions)
    cost = select(BANK, topic="cost", count=2)
    assert len(cost) == 2 and {q.topic for q in cost} == {"cost"}


def test_topics_listed_in_the_help_are_the_banks(study):
    result = study("--help")
    assert result.code == 0
    assert "{" + ",".join(BANK.topics) + "}" in "".join(result.out.split())


def test_explanations_quote_the_latest_report_under_the_working_directory(study, isolated, report):
    write_report(isolated / "runs" / "latest" / "report.json", report)
    result = study("--count", "1", "--answer", "1=B")
    assert result.code == 0, result.err
    assert "Measured figures from runs/latest/report.json" in result.out.replace(str(isolated) + "/", "")
    assert "8.50 s (measured, profile quick, date 2026-11-28)" in result.out

    korean = study("--lang", "ko", "--count", "1", "--answer", "1=B")
    assert "8.50초 (측정값, 프로필 quick, 날짜 2026-11-28)" in korean.out


def test_explicit_report_and_no_report(study, tmp_path, report):
    report["paths"]["kinesis_glue"]["latency_s"]["p50"] = 42.0
    path = write_report(tmp_path / "elsewhere" / "report.json", report)
    assert "42.00 s (measured" in study("--count", "1", "--answer", "1=B", "--report", str(path)).out

    documented = study("--count", "1", "--answer", "1=B", "--no-report")
    assert "No report found" in documented.out
    assert "[documented, source: https://docs.aws.amazon.com/glue/latest/dg/add-job-streaming.html]" in documented.out
    assert "(measured" not in documented.out


def test_without_a_report_explanations_use_the_documented_fallback(study):
    result = study("--count", "1", "--answer", "1=B")
    assert "No report found" in result.out
    assert "default 100 seconds) [documented, source: https://docs.aws.amazon.com/glue/" in result.out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--lang", "fr"], "", "invalid choice: 'fr'"),
        (["--count", "0"], "", "must be at least 1"),
        (["--count", "two"], "", "is not a whole number"),
        (["--topic", "nope"], "", "invalid choice: 'nope'"),
        (["--count", "1", "--answer", "1=F"], "", "question 1 (seed-iot-joins-aggregations) has options A to E"),
        (["--count", "2", "--answer", "1=B,3=A"], "", "this quiz has questions 1 to 2"),
        (["--count", "2", "--answer", "1=B"], "", "no answer for question 2"),
        (["--count", "1", "--answer", "1=B,1=C"], "", "twice"),
        (["--count", "1", "--answer", "B"], "", "is not N=LETTER"),
        (["--count", "1", "--answer", "nope=B"], "", "no question 'nope'"),
        (["--count", "1"], "Z\n", "answer 'Z' to question 1 (seed-iot-joins-aggregations) is not one of A, B, C, D, E"),
        (["--count", "2"], "B\n", "standard input ended before the answer to question 2"),
        (["--report", "missing.json"], "", "report not found: missing.json"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(study, args, stdin, message):
    result = study(*args, stdin=stdin)
    assert result.code == 2
    assert message in result.err


def test_a_report_of_another_schema_is_refused(study, tmp_path, report):
    report["schema_version"] = 1
    path = write_report(tmp_path / "r.json", report)
    result = study("--report", str(path))
    assert result.code == 2 and "schema_version 1" in result.err
    path.write_text("{broken")
    assert "cannot read report" in study("--report", str(path)).err


def test_an_interactive_session_asks_again_after_a_typo_and_stops_cleanly_at_end_of_input():
    out = io.StringIO()
    first = BANK.questions[0]
    session = Session(BANK, "en", None, out, io.StringIO(f"x\n{right(first)}\n"), interactive=True)
    results = run_quiz(session, BANK.questions[:2], None, None)
    text = out.getvalue()
    assert results == [(first.id, True)]
    assert "Your answer (A/B/C/D/E): " in text
    assert "Please answer with one of A/B/C/D/E." in text
    assert "Stopped after 1 of 2 questions." in text
    assert "Score: 1/1 (100%)" in text


class _Interrupted(io.StringIO):
    def readline(self, *args):
        raise KeyboardInterrupt


def test_ctrl_c_at_the_prompt_ends_a_typed_session_with_the_score_so_far():
    out = io.StringIO()
    session = Session(BANK, "ko", None, out, _Interrupted(), interactive=True)
    assert run_quiz(session, BANK.questions[:1], None, None) == []
    assert "1문제 중 0문제에서 멈췄습니다." in out.getvalue()
    with pytest.raises(KeyboardInterrupt):
        run_quiz(Session(BANK, "en", None, out, _Interrupted(), interactive=False), BANK.questions[:1], None, None)
