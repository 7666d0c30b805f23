"""`python -m comparison study`: the quiz, `--review` of missed questions, and `--claims`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from comparison.study.bank import load_bank
from comparison.study.claims import check_claims, claims_markdown
from comparison.study.evidence import LANGS, find_report, load_report
from comparison.study.quiz import UI, Session, parse_answers, run_quiz, save_results, select


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _report(args: argparse.Namespace) -> tuple[dict[str, Any] | None, Path | None]:
    if args.no_report:
        return None, None
    path = Path(args.report) if args.report else find_report(Path.cwd())
    return (load_report(path), path) if path else (None, None)


def cmd_study(args: argparse.Namespace) -> int:
    """Run a quiz session, or print the claims check with `--claims`."""
    report, report_path = _report(args)
    if args.claims:
        ui = UI[args.lang]
        print(ui["report"].format(path=report_path) if report_path else ui["no_report_claims"])
        print()
        print(claims_markdown(check_claims(report or {}), lang=args.lang), end="")
        return 0
    bank = load_bank()
    questions = select(bank, topic=args.topic, review=args.review, seed=args.seed, count=args.count)
    if not questions:  # only a review comes up empty: every topic has questions
        print(UI[args.lang]["nothing"])
        return 0
    # Checked before the first question, so a typo in a script fails fast instead of after half a quiz.
    answers = parse_answers(args.answer, questions) if args.answer is not None else None
    session = Session(bank, args.lang, report, sys.stdout, sys.stdin, interactive=sys.stdin.isatty())
    save_results(run_quiz(session, questions, answers, report_path))
    return 0


def add_study_parser(commands: argparse._SubParsersAction) -> None:
    """Register `study` on the CLI."""
    parser = commands.add_parser(
        "study",
        help="exam-style quiz backed by measured figures; --claims checks the seed note's claims",
        description=(
            "Scenario questions on streaming ETL on AWS, each option explained, with figures from the latest "
            "runs/*/report.json when there is one. Answers are typed, piped (one letter a line) or given with "
            "--answer. Missed questions are kept in $ETL_SHOWDOWN_STATE_DIR, else $XDG_STATE_HOME/etl-showdown "
            "or ~/.local/state/etl-showdown."
        ),
    )
    parser.add_argument("--lang", choices=LANGS, default="en", help="language of questions and explanations")
    parser.add_argument("--answer", metavar="N=LETTER,...", help="answers up front, e.g. 1=B,2=C (N: position or id)")
    parser.add_argument("--count", type=_positive, help="ask at most this many questions")
    parser.add_argument("--seed", type=int, help="shuffle the questions with this seed (default: bank order)")
    parser.add_argument("--topic", choices=list(load_bank().topics), help="only the questions of this topic")
    parser.add_argument("--review", action="store_true", help="ask again the questions missed before")
    parser.add_argument("--claims", action="store_true", help="check the seed note's claims against a report")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--report", metavar="PATH", help="report.json to quote (default: latest runs/*/report.json)")
    source.add_argument("--no-report", action="store_true", help="quote documented figures even if a report exists")
    parser.set_defaults(handler=cmd_study)
