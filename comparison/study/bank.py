"""The question bank: scenario questions in English and Korean, kept as data in `questions.json`.

Explanations never carry an unsourced number: a figure is either a documented one (the bank's `facts`, each
with its source) or a placeholder `{report:<dotted path>}` that is filled from a comparison report when one
exists and otherwise from the figure's documented fallback, which names its source.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, get_args

from comparison.study.evidence import LANGS, FigureKind, Lang, format_value, lookup, run_label

PLACEHOLDER = re.compile(r"\{report:([A-Za-z0-9_.]+)\}")
LETTERS = "ABCDEFGH"


@dataclass(frozen=True)
class Figure:
    """A report figure that explanations may quote, with what to say when no report has it."""

    path: str
    kind: FigureKind
    fallback: dict[Lang, str]
    source: str


@dataclass(frozen=True)
class Option:
    """One answer option: its text, whether it is the answer, and why (in each language)."""

    text: dict[Lang, str]
    why: dict[Lang, str]
    correct: bool


@dataclass(frozen=True)
class Question:
    """A scenario question with exactly one correct option."""

    id: str
    topic: str
    text: dict[Lang, str]
    options: tuple[Option, ...]
    sources: tuple[str, ...]

    @property
    def answer(self) -> int:
        """Index of the correct option."""
        return next(index for index, option in enumerate(self.options) if option.correct)

    @property
    def letters(self) -> str:
        """The letters of this question's options (`ABCD`)."""
        return LETTERS[: len(self.options)]


@dataclass(frozen=True)
class Bank:
    """The whole bank: topics (with their titles), documented facts, report figures and questions."""

    topics: dict[str, dict[Lang, str]]
    facts: tuple[dict[str, str], ...]
    figures: dict[str, Figure]
    questions: tuple[Question, ...]


def _texts(raw: Any, where: str) -> dict[Lang, str]:
    if not isinstance(raw, dict) or any(not isinstance(raw.get(lang), str) or not raw[lang].strip() for lang in LANGS):
        raise ValueError(f"{where}: needs non-empty text in {', '.join(LANGS)}")
    return {lang: raw[lang] for lang in LANGS}


def _question(raw: dict[str, Any], topics: dict[str, Any], figures: dict[str, Figure]) -> Question:
    qid = raw.get("id")
    if not isinstance(qid, str) or not qid:
        raise ValueError(f"question without an id: {raw!r:.80}")
    if raw.get("topic") not in topics:
        raise ValueError(f"{qid}: unknown topic {raw.get('topic')!r}")
    options = tuple(
        Option(
            _texts(o.get("text"), f"{qid} option {i}"),
            _texts(o.get("why"), f"{qid} option {i} why"),
            o.get("correct") is True,
        )
        for i, o in enumerate(raw.get("options", []))
    )
    if not 2 <= len(options) <= len(LETTERS):
        raise ValueError(f"{qid}: needs 2 to {len(LETTERS)} options, has {len(options)}")
    if sum(option.correct for option in options) != 1:
        raise ValueError(f"{qid}: needs exactly one correct option")
    sources = tuple(raw.get("sources", []))
    if not sources or not all(isinstance(s, str) and s.startswith("https://") for s in sources):
        raise ValueError(f"{qid}: needs https sources")
    for option in options:
        for text in option.why.values():
            for path in PLACEHOLDER.findall(text):
                if path not in figures:
                    raise ValueError(f"{qid}: placeholder {path!r} has no entry in figures")
    return Question(qid, raw["topic"], _texts(raw.get("question"), f"{qid} question"), options, sources)


def parse_bank(data: dict[str, Any]) -> Bank:
    """Build and check a bank from its JSON form; ValueError names the first problem."""
    topics = {name: _texts(titles, f"topic {name}") for name, titles in data["topics"].items()}
    kinds = get_args(FigureKind)
    figures = {}
    for path, raw in data["figures"].items():
        if raw.get("kind") not in kinds:
            raise ValueError(f"figure {path}: kind must be one of {kinds}")
        figures[path] = Figure(path, raw["kind"], _texts(raw.get("fallback"), f"figure {path}"), raw["source"])
    questions = tuple(_question(raw, topics, figures) for raw in data["questions"])
    ids = [question.id for question in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate question ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return Bank(topics, tuple(data["facts"]), figures, questions)


@cache
def load_bank() -> Bank:
    """The bank shipped with the package."""
    text = resources.files("comparison.study").joinpath("questions.json").read_text(encoding="utf-8")
    return parse_bank(json.loads(text))


def render(text: str, figures: dict[str, Figure], report: dict[str, Any] | None, lang: Lang) -> str:
    """Fill the `{report:...}` placeholders of `text`: the measured value when the report has it, else the fallback."""

    def fill(match: re.Match[str]) -> str:
        figure = figures[match.group(1)]
        value = lookup(report, figure.path)
        if value is not None and report is not None:
            return f"{format_value(value, figure.kind, lang)} {run_label(report, lang)}"
        # Brackets, not parentheses: fallbacks often sit inside a parenthesis of the explanation already.
        where = "문서 기준, 출처" if lang == "ko" else "documented, source"
        return f"{figure.fallback[lang]} [{where}: {figure.source}]"

    return PLACEHOLDER.sub(fill, text)
