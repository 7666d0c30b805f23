"""A quiz session: pick the questions, take the answers (typed, piped or given up front), explain every option.

The questions a learner missed are remembered in the user's state directory (never in the repository) so
that `--review` can ask them again; a question answered right is forgotten.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from comparison.study.bank import Bank, Question, render
from comparison.study.evidence import Lang

STATE_ENV = "ETL_SHOWDOWN_STATE_DIR"
STATE_FILE = "study.json"
STATE_VERSION = 1

UI: dict[Lang, dict[str, str]] = {
    "en": {
        "heading": "Question {n}/{total} · {topic} · {id}",
        "prompt": "Your answer ({letters}): ",
        "echo": "Your answer: {letter}",
        "retry": "Please answer with one of {letters}.",
        "right": "Correct.",
        "wrong": "Not this time: the answer is {letter}.",
        "chosen": " ← your answer",
        "sources": "Sources:",
        "score": "Score: {right}/{total} ({percent}%)",
        "missed": "Missed: {ids}. Ask them again with `python -m comparison study --review`.",
        "stopped": "Stopped after {answered} of {total} questions.",
        "nothing": "Nothing to review: no missed questions are recorded for this selection.",
        "report": "Measured figures from {path}.",
        "no_report": "No report found: explanations quote documented figures with their sources.",
        "no_report_claims": "No report found (runs/*/report.json, or --report PATH): no claim can be measured.",
    },
    "ko": {
        "heading": "문제 {n}/{total} · {topic} · {id}",
        "prompt": "답 ({letters}): ",
        "echo": "선택한 답: {letter}",
        "retry": "{letters} 중 하나로 답해 주세요.",
        "right": "정답입니다.",
        "wrong": "아쉽네요. 정답은 {letter}입니다.",
        "chosen": " ← 선택한 답",
        "sources": "출처:",
        "score": "점수: {right}/{total} ({percent}%)",
        "missed": "틀린 문제: {ids}. `python -m comparison study --review`로 다시 풀 수 있습니다.",
        "stopped": "{total}문제 중 {answered}문제에서 멈췄습니다.",
        "nothing": "복습할 문제가 없습니다. 이 조건에 맞는 오답 기록이 없습니다.",
        "report": "측정 수치 출처: {path}",
        "no_report": "보고서가 없습니다. 해설은 출처가 있는 문서상의 수치를 인용합니다.",
        "no_report_claims": "보고서가 없습니다(runs/*/report.json 또는 --report PATH). 어떤 주장도 측정할 수 없습니다.",
    },
}


def state_dir() -> Path:
    """Where study state lives: `$ETL_SHOWDOWN_STATE_DIR`, else the XDG state directory of the user."""
    if override := os.environ.get(STATE_ENV):
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "etl-showdown"


def load_missed() -> list[str]:
    """Ids of the questions missed before (an unreadable state file counts as none, it is rewritten next time)."""
    path = state_dir() / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    missed = state.get("missed") if isinstance(state, dict) else None
    return [qid for qid in missed if isinstance(qid, str)] if isinstance(missed, list) else []


def save_results(results: Sequence[tuple[str, bool]]) -> None:
    """Remember the questions answered wrong and forget those answered right, keeping the earlier order."""
    missed = load_missed()
    for qid, correct in results:
        if correct and qid in missed:
            missed.remove(qid)
        elif not correct and qid not in missed:
            missed.append(qid)
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed over, so an interrupted write never leaves half a file behind.
    temporary = directory / f".{STATE_FILE}.{os.getpid()}"
    temporary.write_text(json.dumps({"version": STATE_VERSION, "missed": missed}, indent=1), encoding="utf-8")
    temporary.replace(directory / STATE_FILE)


def select(
    bank: Bank, *, topic: str | None = None, review: bool = False, seed: int | None = None, count: int | None = None
) -> list[Question]:
    """The questions of a session: bank order unless `seed` shuffles it, then `topic`, `review`, `count`."""
    if topic is not None and topic not in bank.topics:
        raise ValueError(f"unknown topic {topic!r}; topics: {', '.join(bank.topics)}")
    if count is not None and count < 1:
        raise ValueError(f"--count must be at least 1, not {count}")
    questions = list(bank.questions)
    if review:
        # Ids no longer in the bank (an older version's) are skipped rather than failing the review.
        missed = set(load_missed())
        questions = [question for question in questions if question.id in missed]
    if topic is not None:
        questions = [question for question in questions if question.topic == topic]
    if seed is not None:
        random.Random(seed).shuffle(questions)
    return questions[:count] if count is not None else questions


def letter_index(text: str, question: Question) -> int | None:
    """The option index for an answer such as `b` or ` B `, or None if it is not one of the question's letters."""
    letter = text.strip().upper()
    return question.letters.index(letter) if len(letter) == 1 and letter in question.letters else None


def parse_answers(spec: str, questions: Sequence[Question]) -> dict[int, int]:
    """`1=B,2=C` (a position in this session or a question id, then a letter) as {position index: option index}."""
    positions = {question.id: index for index, question in enumerate(questions)}
    answers: dict[int, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, equals, letter = item.partition("=")
        key = key.strip()
        if not equals or not key or not letter.strip():
            raise ValueError(f"--answer item {item!r} is not N=LETTER (for example 1=B)")
        if re.fullmatch(r"\d+", key):
            position = int(key) - 1
            if not 0 <= position < len(questions):
                raise ValueError(f"--answer {item!r}: this quiz has questions 1 to {len(questions)}")
        elif key in positions:
            position = positions[key]
        else:
            raise ValueError(f"--answer {item!r}: no question {key!r} in this quiz")
        question = questions[position]
        choice = letter_index(letter, question)
        if choice is None:
            raise ValueError(
                f"--answer {item!r}: question {position + 1} ({question.id}) has options "
                f"{question.letters[0]} to {question.letters[-1]}"
            )
        if position in answers:
            raise ValueError(f"--answer answers question {position + 1} ({question.id}) twice")
        answers[position] = choice
    unanswered = [f"{index + 1} ({q.id})" for index, q in enumerate(questions) if index not in answers]
    if unanswered:
        raise ValueError(f"--answer gives no answer for question {', '.join(unanswered)}")
    return answers


@dataclass
class Session:
    """Where a session's answers come from and where it writes."""

    bank: Bank
    lang: Lang
    report: dict[str, Any] | None
    out: TextIO
    stdin: TextIO
    interactive: bool

    def say(self, text: str = "") -> None:
        """Write a line of the transcript."""
        print(text, file=self.out)

    def read_answer(self, question: Question, n: int) -> int | None:
        """Read one answer from stdin; None at end of input in an interactive session."""
        ui = UI[self.lang]
        letters = "/".join(question.letters)
        while True:
            if self.interactive:
                self.out.write(ui["prompt"].format(letters=letters))
                self.out.flush()
            try:
                line = self.stdin.readline()
            except KeyboardInterrupt:
                # Ctrl-C at the prompt ends a typed session like Ctrl-D: with the score so far.
                if not self.interactive:
                    raise
                line = ""
            if not line:
                if self.interactive:
                    return None
                raise ValueError(f"standard input ended before the answer to question {n} ({question.id})")
            choice = letter_index(line, question)
            if choice is not None:
                if not self.interactive:
                    self.say(ui["echo"].format(letter=question.letters[choice]))
                return choice
            if not self.interactive:
                choices = ", ".join(question.letters)
                raise ValueError(f"answer {line.strip()!r} to question {n} ({question.id}) is not one of {choices}")
            self.say(ui["retry"].format(letters=letters))

    def ask(self, question: Question, n: int, total: int) -> None:
        """Show a question and its lettered options."""
        self.say(
            UI[self.lang]["heading"].format(
                n=n, total=total, topic=self.bank.topics[question.topic][self.lang], id=question.id
            )
        )
        self.say(question.text[self.lang])
        self.say()
        for letter, option in zip(question.letters, question.options, strict=True):
            self.say(f"  {letter}) {option.text[self.lang]}")

    def explain(self, question: Question, choice: int) -> bool:
        """Say whether `choice` is right, then why each option is right or wrong; returns whether it was right."""
        ui = UI[self.lang]
        correct = choice == question.answer
        self.say(ui["right"] if correct else ui["wrong"].format(letter=question.letters[question.answer]))
        for index, (letter, option) in enumerate(zip(question.letters, question.options, strict=True)):
            mark = "✓" if option.correct else "✗"
            chosen = ui["chosen"] if index == choice else ""
            why = render(option.why[self.lang], self.bank.figures, self.report, self.lang)
            self.say(f"  {letter}) {mark} {why}{chosen}")
        self.say(f"{ui['sources']} {', '.join(question.sources)}")
        self.say()
        return correct


def run_quiz(
    session: Session, questions: Sequence[Question], answers: dict[int, int] | None, report_path: Path | None
) -> list[tuple[str, bool]]:
    """Ask `questions` (answers from `answers` if given, else stdin), print the score; (id, correct) per answer."""
    ui = UI[session.lang]
    session.say(ui["report"].format(path=report_path) if report_path else ui["no_report"])
    session.say()
    results: list[tuple[str, bool]] = []
    for index, question in enumerate(questions):
        session.ask(question, index + 1, len(questions))
        if answers is not None:
            choice: int | None = answers[index]
            session.say(ui["echo"].format(letter=question.letters[answers[index]]))
        else:
            choice = session.read_answer(question, index + 1)
        if choice is None:
            session.say()
            session.say(ui["stopped"].format(answered=len(results), total=len(questions)))
            break
        results.append((question.id, session.explain(question, choice)))
    right = sum(correct for _, correct in results)
    percent = round(100 * right / len(results)) if results else 0
    session.say(ui["score"].format(right=right, total=len(results), percent=percent))
    missed = [qid for qid, correct in results if not correct]
    if missed:
        session.say(ui["missed"].format(ids=", ".join(missed)))
    return results
