"""The report's three files in the run folder: report.json, report.md (`render`) and report.html (`html_report`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from comparison.html_report import html_page
from comparison.render import markdown


def write_report(out: Path, report: dict[str, Any]) -> None:
    """Write report.json, report.md and report.html into the run folder."""
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    (out / "report.md").write_text(markdown(report))
    samples_path = out / "timings" / "samples.jsonl"
    samples = [json.loads(line) for line in samples_path.read_text().splitlines()] if samples_path.exists() else []
    (out / "report.html").write_text(html_page(report, samples))
