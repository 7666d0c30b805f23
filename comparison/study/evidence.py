"""Reading a comparison report (`report.json`, `comparison.schema`) and formatting its figures for people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from comparison.schema import REPORT_SCHEMA_VERSION

Lang = Literal["en", "ko"]
LANGS: tuple[Lang, ...] = ("en", "ko")
# How a figure is shown; the kind comes from the data that names the figure, never from the value.
FigureKind = Literal["seconds", "usd", "count", "bytes", "fraction", "bool", "events_per_s"]


def find_report(root: Path) -> Path | None:
    """The most recently written `runs/*/report.json` under `root`, or None."""
    candidates = [path for path in root.glob("runs/*/report.json") if path.is_file()]
    return max(candidates, key=lambda path: path.stat().st_mtime, default=None)


def load_report(path: Path) -> dict[str, Any]:
    """Parse a report and check its schema version; ValueError with the reason otherwise."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"report not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read report {path}: {error}") from None
    if not isinstance(report, dict):
        raise ValueError(f"report {path} is not a JSON object")
    version = report.get("schema_version")
    if version != REPORT_SCHEMA_VERSION:
        raise ValueError(
            f"report {path} has schema_version {version!r}; this study mode reads {REPORT_SCHEMA_VERSION}"
            " (python -m comparison run writes it)"
        )
    return report


def lookup(report: dict[str, Any] | None, dotted: str) -> Any:
    """The value at a dotted path, or None if any step is missing.

    A step into a list picks the element whose `name` equals the step (as in `capabilities.dedup`), or, for a
    step that is a number, the element at that index (as in `cost.crossovers.0`).
    """
    node: Any = report
    for step in dotted.split("."):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list):
            node = _list_step(node, step)
        else:
            return None
        if node is None:
            return None
    return node


def _list_step(items: list[Any], step: str) -> Any:
    if step.isdigit():
        index = int(step)
        return items[index] if index < len(items) else None
    return next((item for item in items if isinstance(item, dict) and item.get("name") == step), None)


def is_number(value: Any) -> bool:
    """True for ints and floats, not for booleans (which JSON readers also give as ints)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def format_value(value: Any, kind: FigureKind, lang: Lang) -> str:
    """A figure as a reader expects it in `lang` (`1.23 s` / `1.23초`, `$12.30`, `12,000`, `98.5%`)."""
    if kind == "bool" or isinstance(value, bool):
        return {("en", True): "yes", ("en", False): "no", ("ko", True): "예", ("ko", False): "아니오"}[
            (lang, bool(value))
        ]
    if not is_number(value):
        return str(value)
    if kind == "seconds":
        return f"{value:,.2f} s" if lang == "en" else f"{value:,.2f}초"
    if kind == "usd":
        return f"${value:,.2f}"
    if kind == "count":
        return f"{value:,.0f}" if lang == "en" else f"{value:,.0f}건"
    if kind == "bytes":
        return f"{value:,.0f} bytes" if lang == "en" else f"{value:,.0f}바이트"
    if kind == "fraction":
        return f"{value * 100:.1f}%"
    return f"{value:,.1f} events/s" if lang == "en" else f"초당 {value:,.1f}건"


def run_label(report: dict[str, Any], lang: Lang) -> str:
    """Where a measured figure comes from: `(measured, profile quick, date 2026-11-28)`."""
    profile = lookup(report, "run.profile") or "?"
    started = str(lookup(report, "run.started_at") or "?")[:10]
    if lang == "ko":
        return f"(측정값, 프로필 {profile}, 날짜 {started})"
    return f"(measured, profile {profile}, date {started})"
