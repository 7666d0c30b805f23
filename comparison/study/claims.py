"""The seed note's trade-off claims, set against a comparison report.

Each claim of the note's four lists (Glue pros and cons, Firehose pros and cons) is in `claims.json` with the
rule that judges it; the rules are here, explicit and deterministic:

- `real_time`: real-time means sub-second. Contradicted if the path's p50 latency is >= 1 s, qualified if
  p50 < 1 s <= p99 (or p99 is missing), confirmed if p99 < 1 s.
- `not_real_time` (the converse claim): confirmed if p50 >= 1 s, qualified if p50 < 1 s <= p99 (or p99 is
  missing), contradicted if p99 < 1 s.
- `seconds_latency`: "seconds" means under a minute. Confirmed if p99 < 60 s, qualified if p50 < 60 s <= p99
  (or p99 is missing), contradicted if p50 >= 60 s.
- `startup`: the start-up time (`paths.<path>.startup_s`) against the path's steady p50 latency. Confirmed if
  startup >= 2 x p50, qualified if p50 < startup < 2 x p50, contradicted if startup <= p50.
- `kept_up`: a distributed engine that kept up accounts for every record. Contradicted if any record is
  unaccounted for; otherwise qualified (only the measured rate was shown, never "any" scale).
- `cost` (direction lower or higher): monthly totals at the measured workload. The claim holds there or it is
  contradicted; it is confirmed only if the sweep has no crossover, qualified (with the crossovers) if it has
  some or if the report has no sweep.
- `supports`: the path can express every listed capability. Contradicted if one is not expressible,
  confirmed if all are and every result matched the ground truth, qualified otherwise.
- `lacks`: the path cannot express the listed capabilities (`need_all`: all of them, else at least one).
  Confirmed if so, contradicted if all are expressible and matched, qualified in between.
- `unmeasurable`: the report has no figure for the claim; always not_measured, with the reason.

Any rule gives not_measured when a figure it needs is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from comparison.study.evidence import LANGS, FigureKind, Lang, format_value, is_number, lookup

Verdict = Literal["confirmed", "qualified", "contradicted", "not_measured"]
REAL_TIME_S = 1.0
SECONDS_SCALE_S = 60.0
STARTUP_FACTOR = 2.0


@dataclass
class Outcome:
    """What a rule found: the verdict, which text explains it, the figures used and the text's fields."""

    verdict: Verdict
    evidence: dict[str, Any]
    fields: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def key(self) -> str:
        """The name of the explanation text in the data (the verdict unless the rule picked another)."""
        return self.text or self.verdict


@cache
def claims_data() -> dict[str, Any]:
    """`claims.json`: the claims, the rules' explanations and the labels, in both languages."""
    text = resources.files("comparison.study").joinpath("claims.json").read_text(encoding="utf-8")
    return json.loads(text)


def _figures(report: dict[str, Any], *paths: str) -> dict[str, Any]:
    return {path: lookup(report, path) for path in paths}


def _missing(evidence: dict[str, Any], *required: str) -> Outcome | None:
    absent = [name for name in required if not is_number(evidence.get(name))]
    if absent:
        return Outcome("not_measured", evidence, {"missing": ", ".join(absent)})
    return None


def _fmt(value: Any, kind: FigureKind, lang: Lang) -> str:
    if value is None:
        return "보고되지 않음" if lang == "ko" else "not reported"
    return format_value(value, kind, lang)


def _latency(report: dict[str, Any], spec: dict[str, Any], lang: Lang) -> tuple[dict[str, Any], dict[str, str]]:
    base = f"paths.{spec['path']}.latency_s"
    evidence = _figures(report, f"{base}.p50", f"{base}.p99", "run.profile")
    fields = {
        "p50": _fmt(evidence[f"{base}.p50"], "seconds", lang),
        "p99": _fmt(evidence[f"{base}.p99"], "seconds", lang),
        "profile": str(evidence["run.profile"] or "?"),
    }
    return evidence, fields


def _latency_rule(threshold: float, above: Verdict, below: Verdict) -> Callable[[dict, dict, Lang], Outcome]:
    """A rule on p50 and p99 against `threshold`: `above` when p50 >= it, `below` when p99 < it."""

    def rule(report: dict[str, Any], spec: dict[str, Any], lang: Lang) -> Outcome:
        evidence, fields = _latency(report, spec, lang)
        p50_name, p99_name = (f"paths.{spec['path']}.latency_s.{p}" for p in ("p50", "p99"))
        if missing := _missing(evidence, p50_name):
            return missing
        p50, p99 = evidence[p50_name], evidence[p99_name]
        if p50 >= threshold:
            return Outcome(above, evidence, fields)
        if is_number(p99) and p99 < threshold:
            return Outcome(below, evidence, fields)
        return Outcome("qualified", evidence, fields)

    return rule


def _startup(report: dict[str, Any], spec: dict[str, Any], lang: Lang) -> Outcome:
    startup_name, p50_name = f"paths.{spec['path']}.startup_s", f"paths.{spec['path']}.latency_s.p50"
    evidence = _figures(report, startup_name, p50_name, "run.mode")
    fields = {
        "startup": _fmt(evidence[startup_name], "seconds", lang),
        "p50": _fmt(evidence[p50_name], "seconds", lang),
        "mode": str(evidence["run.mode"] or "?"),
    }
    if missing := _missing(evidence, startup_name, p50_name):
        return missing
    startup, p50 = evidence[startup_name], evidence[p50_name]
    if startup >= STARTUP_FACTOR * p50:
        return Outcome("confirmed", evidence, fields)
    if startup > p50:
        return Outcome("qualified", evidence, fields)
    return Outcome("contradicted", evidence, fields)


def _kept_up(report: dict[str, Any], spec: dict[str, Any], lang: Lang) -> Outcome:
    unaccounted_name = f"paths.{spec['path']}.counts.unaccounted"
    evidence = _figures(report, unaccounted_name, "run.produced.total", "run.duration_s", "run.mode")
    total, duration = evidence["run.produced.total"], evidence["run.duration_s"]
    rate = total / duration if is_number(total) and is_number(duration) and duration > 0 else None
    fields = {
        "unaccounted": _fmt(evidence[unaccounted_name], "count", lang),
        "produced": _fmt(total, "count", lang),
        "rate": _fmt(rate, "events_per_s", lang),
        "mode": str(evidence["run.mode"] or "?"),
    }
    if missing := _missing(evidence, unaccounted_name):
        return missing
    return Outcome("contradicted" if evidence[unaccounted_name] > 0 else "qualified", evidence, fields)


def _crossovers_text(crossovers: list[dict[str, Any]], lang: Lang) -> str:
    if not crossovers:
        return "없음" if lang == "ko" else "none"
    parts = []
    for point in crossovers:
        size, rate = point.get("record_bytes"), point.get("events_per_s")
        if lang == "ko":
            parts.append(f"{size}바이트 레코드는 {_fmt(rate, 'events_per_s', lang)}")
        else:
            parts.append(f"{_fmt(rate, 'events_per_s', lang)} for {size}-byte records")
    return "; ".join(parts)


def _cost(report: dict[str, Any], spec: dict[str, Any], lang: Lang) -> Outcome:
    own_name, other_name = (f"cost.monthly_usd.{p}.total" for p in (spec["path"], spec["other"]))
    evidence = _figures(report, own_name, other_name, "cost.crossovers")
    crossovers = evidence["cost.crossovers"]
    fields = {
        "own": _fmt(evidence[own_name], "usd", lang),
        "other": _fmt(evidence[other_name], "usd", lang),
        "other_path": claims_data()["paths"][spec["other"]][lang],
        "crossovers": _crossovers_text(crossovers or [], lang),
    }
    if missing := _missing(evidence, own_name, other_name):
        return missing
    own, other = evidence[own_name], evidence[other_name]
    holds = own < other if spec["direction"] == "lower" else own > other
    if not holds:
        return Outcome("contradicted", evidence, fields)
    if not isinstance(crossovers, list):
        return Outcome("qualified", evidence, fields, text="qualified_no_sweep")
    return Outcome("qualified" if crossovers else "confirmed", evidence, fields)


def _capabilities(
    report: dict[str, Any], spec: dict[str, Any], lang: Lang
) -> tuple[dict[str, Any], dict[str, str], list[str], list[str], list[str]]:
    """Evidence and fields for capability rules, with the missing, inexpressible and partial capability names."""
    path = spec["path"]
    evidence: dict[str, Any] = {}
    missing, inexpressible, partial = [], [], []
    for name in spec["capabilities"]:
        expressible = lookup(report, f"capabilities.{name}.{path}.expressible")
        fraction = lookup(report, f"capabilities.{name}.{path}.fraction")
        evidence[f"capabilities.{name}.{path}.expressible"] = expressible
        evidence[f"capabilities.{name}.{path}.fraction"] = fraction
        if not isinstance(expressible, bool):
            missing.append(f"capabilities.{name}.{path}.expressible")
        elif not expressible:
            inexpressible.append(name)
        elif not (is_number(fraction) and fraction >= 1.0):
            partial.append(f"{name} ({_fmt(fraction, 'fraction', lang)})")
    none = "없음" if lang == "ko" else "none"
    fields = {
        "capabilities": ", ".join(spec["capabilities"]),
        "inexpressible": ", ".join(inexpressible) or none,
        "partial": ", ".join(partial) or none,
        "missing": ", ".join(missing),
    }
    return evidence, fields, missing, inexpressible, partial


def _supports(report: dict[str, Any], spec: dict[str, Any], lang: Lang) -> Outcome:
    evidence, fields, missing, inexpressible, partial = _capabilities(report, spec, lang)
    if missing:
        return Outcome("not_measured", evidence, fields)
    if inexpressible:
        return Outcome("contradicted", evidence, fields)
    return Outcome("qualified" if partial else "confirmed", evidence, fields)


def _lacks(report: dict[str, Any], spec: dict[str, Any], lang: Lang) -> Outcome:
    evidence, fields, missing, inexpressible, partial = _capabilities(report, spec, lang)
    if missing:
        return Outcome("not_measured", evidence, fields)
    enough = len(inexpressible) == len(spec["capabilities"]) if spec.get("need_all") else bool(inexpressible)
    if enough:
        return Outcome("confirmed", evidence, fields)
    if not inexpressible and not partial:
        return Outcome("contradicted", evidence, fields)
    return Outcome("qualified", evidence, fields)


def _unmeasurable(report: dict[str, Any], spec: dict[str, Any], lang: Lang) -> Outcome:
    return Outcome("not_measured", {}, {}, text="reason")


RULES: dict[str, Callable[[dict[str, Any], dict[str, Any], Lang], Outcome]] = {
    "real_time": _latency_rule(REAL_TIME_S, above="contradicted", below="confirmed"),
    "not_real_time": _latency_rule(REAL_TIME_S, above="confirmed", below="contradicted"),
    "seconds_latency": _latency_rule(SECONDS_SCALE_S, above="contradicted", below="confirmed"),
    "startup": _startup,
    "kept_up": _kept_up,
    "cost": _cost,
    "supports": _supports,
    "lacks": _lacks,
    "unmeasurable": _unmeasurable,
}


def _explain(spec: dict[str, Any], outcome: Outcome, lang: Lang) -> str:
    data = claims_data()
    if outcome.key == "reason":
        return spec["reason"][lang]
    if outcome.verdict == "not_measured":
        return data["not_measured"][lang].format(**outcome.fields)
    return data["rules"][spec["rule"]][outcome.key][lang].format(**outcome.fields)


def check_claims(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Judge every claim of the seed note's trade-off lists against `report` (a report.json, `comparison.schema`).

    Each result: `id`, `claim` ({en, ko}: the note's words, and their translation), `path`, `side` (pro or con),
    `verdict` (confirmed, qualified, contradicted, not_measured), `conditions` ({en, ko}: the conditions under
    which it holds, or why the verdict), `rule` ({en, ko}: how it is judged) and `evidence` ({figure: value}).
    An empty dict gives not_measured everywhere.
    """
    data = claims_data()
    results = []
    for spec in data["claims"]:
        rule = RULES[spec["rule"]]
        outcomes = {lang: rule(report, spec, lang) for lang in LANGS}
        first = outcomes[LANGS[0]]
        results.append(
            {
                "id": spec["id"],
                "claim": dict(spec["claim"]),
                "path": spec["path"],
                "side": spec["side"],
                "verdict": first.verdict,
                "conditions": {lang: _explain(spec, outcomes[lang], lang) for lang in LANGS},
                "rule": dict(data["rules"][spec["rule"]]["rule"]),
                "evidence": first.evidence,
            }
        )
    return results


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _evidence_text(evidence: dict[str, Any]) -> str:
    shown = [
        f"`{name}` = {json.dumps(value, ensure_ascii=False)}" for name, value in evidence.items() if value is not None
    ]
    return "; ".join(shown) or "—"


def claims_markdown(claims: list[dict[str, Any]], lang: Lang = "en") -> str:
    """A Markdown section (heading, rules, one table row per claim) for the report or the terminal."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    data = claims_data()
    labels = data["labels"]
    lines = [
        f"## {labels['heading'][lang]}",
        "",
        labels["intro"][lang],
        "",
        "| "
        + " | ".join(labels[name][lang] for name in ("path", "side", "claim", "verdict", "conditions", "figures"))
        + " |",
        "|---|---|---|---|---|---|",
    ]
    for claim in claims:
        cells = (
            data["paths"][claim["path"]][lang],
            labels[claim["side"]][lang],
            claim["claim"][lang],
            f"**{data['verdicts'][claim['verdict']][lang]}**",
            claim["conditions"][lang],
            _evidence_text(claim["evidence"]),
        )
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    lines += ["", f"### {labels['rules'][lang]}", ""]
    for name, rule in data["rules"].items():
        lines.append(f"- `{name}`: {rule['rule'][lang]}")
    return "\n".join(lines) + "\n"
