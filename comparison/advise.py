"""`python -m comparison advise`: which path fits a given workload, at what latency and monthly cost, and why.

For each option it says whether each requirement can be met (the capabilities the runs measured, the documented
limits), the settings that reach the latency goal, the latency to expect with where that figure comes from (the
latest report, a benchmark, a documented limit, or the model), and the monthly cost from the cost model with its
arithmetic. A third option, Amazon Managed Service for Apache Flink, is modelled from its documentation and
pricing, never run: everything about it says so.

Latency model (steady state, after start-up): Firehose + Lambda waits up to its processor interval and its S3
interval, plus the overhead measured at zero buffering; the Glue job waits up to one window (its trigger), plus one
micro-batch; Flink processes records as they come (documented as sub-second).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from comparison import cost
from comparison.advice_text import TEXT, duration, plain_text
from comparison.cost_workload import Workload
from comparison.pricing import pricing
from comparison.study.evidence import find_report, load_report
from comparison.sweep import SWEEP_RATES

OPTIONS = ("firehose_lambda", "kinesis_glue", "managed_flink")
# Requirement names on the command line -> the capability names of report.json.
NEEDS = {
    "cleansing": "cleansing",
    "enrichment": "enrichment",
    "dedup": "dedup",
    "windows": "windowed_aggregates",
    "late": "late_events",
    "join": "stream_join",
}
# What each option can express. The two run paths: as every comparison run measures (Firehose + Lambda
# transforms each record alone, with no state across invocations). Flink: documented stateful stream
# processing (windows, joins, exactly-once state), not run here.
EXPRESSIBLE = {
    "firehose_lambda": {"cleansing", "enrichment"},
    "kinesis_glue": set(NEEDS.values()),
    "managed_flink": set(NEEDS.values()),
}
KINESIS_MAX_RECORD = 1_048_576
FIREHOSE_MAX_RECORD = 1_024_000
FIREHOSE_MAX_INTERVAL_S = 900
GLUE_DEFAULT_WINDOW_S = 100.0
# Documented, not measured: zero buffering delivers "within a few seconds" (Firehose buffering-hints page).
FIREHOSE_DOCUMENTED_OVERHEAD_S = 5.0
FLINK_DOCUMENTED_LATENCY_S = 1.0
MAP_SIZES = (100, 200, 512, 1024, 2048, 5120, 10240, 51200, 102400)
# A day: beyond it a streaming choice is a batch choice, and the cost model's buffers stop at 900 s anyway.
MAX_SLO_S = 86_400.0
UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


class AdviceError(ValueError):
    """An input advise cannot take, with what is allowed."""


def parse_duration(text: str) -> float:
    """Seconds from "500ms", "60s", "5m", "1h" or a bare number of seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", text.lower())
    if not match or (match.group(2) and match.group(2) not in UNITS):
        raise AdviceError(f"--latency-slo {text!r}: give a duration such as 500ms, 60s, 5m or 1h")
    seconds = float(match.group(1)) * UNITS.get(match.group(2) or "s", 1.0)
    if not 0 < seconds <= MAX_SLO_S:
        raise AdviceError(f"--latency-slo {text!r}: the goal must be more than 0 seconds and at most a day")
    return seconds


def parse_needs(text: str) -> tuple[str, ...]:
    """Requirement names, comma-separated, checked against `NEEDS`."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in NEEDS]
    if unknown:
        raise AdviceError(f"unknown requirement {unknown[0]!r}: choose from {', '.join(NEEDS)}")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Request:
    """The workload and what it needs."""

    rate: float
    record_bytes: int
    latency_slo_s: float
    needs: tuple[str, ...] = ()
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise AdviceError(f"--rate must be a number of events per second above 0, not {self.rate}")
        if not 1 <= self.record_bytes <= KINESIS_MAX_RECORD:
            raise AdviceError(
                f"--record-bytes must be 1 to {KINESIS_MAX_RECORD:,} (a Kinesis record is at most 1 MiB), "
                f"not {self.record_bytes:,}"
            )
        try:
            pricing(self.region)
        except (KeyError, ValueError) as error:
            raise AdviceError(str(error)) from None


@dataclass(frozen=True)
class Evidence:
    """The measured figures advise builds on, each with where it comes from."""

    firehose_overhead_s: float
    firehose_overhead_measured: bool
    glue_batch_s: float
    glue_rate_per_worker: float
    glue_rate_source: str
    lambda_ms_per_record: float
    report: str

    @classmethod
    def gather(cls, report_path: Path | None) -> Evidence:
        """From the latest report (and the benchmark it cites); AdviceError when there is none to read."""
        path = report_path or find_report(Path.cwd())
        if path is None:
            raise AdviceError(
                "no report to take measured figures from: run `make compare` first, or pass --report PATH"
            )
        report = load_report(path)
        try:
            return cls._from_report(report, path)
        except (KeyError, TypeError) as error:
            raise AdviceError(
                f"report {path} lacks {error} (written by an older version?): run `make compare` again"
            ) from None

    @classmethod
    def _from_report(cls, report: dict[str, Any], path: Path) -> Evidence:
        firehose = report["run"]["settings"]["firehose"]
        latency = report["paths"]["firehose_lambda"]["latency_s"]
        measured = firehose["processor_interval_s"] == 0 and firehose["delivery_interval_s"] == 0 and latency["p99"]
        batch = report["paths"]["kinesis_glue"].get("micro_batch_s") or {}
        inputs = report["cost"]["measured_inputs"]
        return cls(
            firehose_overhead_s=latency["p99"] if measured else FIREHOSE_DOCUMENTED_OVERHEAD_S,
            firehose_overhead_measured=bool(measured),
            glue_batch_s=batch.get("p99") or 0.0,
            glue_rate_per_worker=inputs["glue_events_per_s_per_worker"],
            glue_rate_source=inputs["glue_events_per_s_per_worker_source"],
            lambda_ms_per_record=inputs["lambda_ms_per_record"],
            report=str(path),
        )


@dataclass
class Option:
    """One option's answer."""

    name: str
    fits: bool = False
    reasons: list[str] = field(default_factory=list)
    expected_latency_s: float | None = None
    latency_source: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    usd_per_month: float = 0.0
    lines: list[dict[str, Any]] = field(default_factory=list)
    modelled: bool = False


def _firehose(request: Request, evidence: Evidence, text: dict[str, Any]) -> Option:
    option = Option("firehose_lambda")
    if request.record_bytes > FIREHOSE_MAX_RECORD:
        option.reasons.append(text["record_limit"].format(bytes=request.record_bytes, limit=FIREHOSE_MAX_RECORD))
    budget = request.latency_slo_s - evidence.firehose_overhead_s
    if budget < 0:
        option.reasons.append(
            text["slo_missed"].format(slo=duration(request.latency_slo_s), best=duration(evidence.firehose_overhead_s))
        )
        budget = 0.0
    # A record waits up to both intervals: split what the goal leaves between them (longer buffers, fewer
    # invocations and objects, so the cheapest settings that still meet the goal).
    processor = min(FIREHOSE_MAX_INTERVAL_S, math.floor(budget / 2))
    delivery = min(FIREHOSE_MAX_INTERVAL_S, math.floor(budget - processor))
    option.settings = {"ProcessorBufferIntervalSeconds": processor, "DeliveryBufferIntervalSeconds": delivery}
    option.expected_latency_s = processor + delivery + evidence.firehose_overhead_s
    source = "src_firehose_measured" if evidence.firehose_overhead_measured else "src_firehose_documented"
    option.latency_source = text[source].format(report=evidence.report)
    workload = Workload(
        events_per_s=request.rate,
        record_size_bytes=min(request.record_bytes, FIREHOSE_MAX_RECORD),
        lambda_ms_per_record=evidence.lambda_ms_per_record,
        processor_interval_s=processor,
        delivery_interval_s=delivery,
    )
    path = cost.estimate(workload, request.region).firehose_lambda
    option.usd_per_month, option.lines = path.usd_per_month, [line.to_dict() for line in path.lines]
    return option


def _glue(request: Request, evidence: Evidence, text: dict[str, Any]) -> Option:
    option = Option("kinesis_glue")
    budget = request.latency_slo_s - evidence.glue_batch_s
    if budget < 1:
        option.reasons.append(
            text["slo_missed"].format(slo=duration(request.latency_slo_s), best=duration(evidence.glue_batch_s + 1))
        )
    window = max(1.0, min(GLUE_DEFAULT_WINDOW_S, math.floor(budget)))
    workers = cost.glue_workers_for(request.rate, evidence.glue_rate_per_worker)
    option.settings = {"GlueWindowSize": f"{window:g} seconds", "NumberOfWorkers": workers, "WorkerType": "G.025X"}
    option.expected_latency_s = window + evidence.glue_batch_s
    option.latency_source = text["src_glue"].format(report=evidence.report)
    workload = Workload(
        events_per_s=request.rate,
        record_size_bytes=request.record_bytes,
        lambda_ms_per_record=evidence.lambda_ms_per_record,
        glue_workers=workers,
        glue_window_s=window,
    )
    path = cost.glue_estimate(workload, request.region)
    option.usd_per_month, option.lines = path.usd_per_month, [line.to_dict() for line in path.lines]
    return option


def _flink(request: Request, evidence: Evidence, text: dict[str, Any]) -> Option:
    option = Option("managed_flink", modelled=True)
    if request.latency_slo_s < FLINK_DOCUMENTED_LATENCY_S:
        option.reasons.append(
            text["slo_missed"].format(slo=duration(request.latency_slo_s), best=duration(FLINK_DOCUMENTED_LATENCY_S))
        )
    # Assumption: a KPU (1 vCPU) does what one vCPU of the measured Spark pipeline does (a G.025X worker has 2).
    per_kpu = evidence.glue_rate_per_worker / 2
    kpus = max(1, math.ceil(request.rate / per_kpu))
    option.settings = {"KPUs": kpus, "assumed_events_per_s_per_kpu": round(per_kpu)}
    option.expected_latency_s = FLINK_DOCUMENTED_LATENCY_S
    option.latency_source = text["src_flink"]
    workload = Workload(events_per_s=request.rate, record_size_bytes=request.record_bytes, lambda_ms_per_record=0.0)
    path = cost.flink_estimate(workload, kpus, request.region)
    option.usd_per_month, option.lines = path.usd_per_month, [line.to_dict() for line in path.lines]
    return option


def options_for(request: Request, evidence: Evidence, lang: str = "en") -> list[Option]:
    """Every option's answer for `request`."""
    text = TEXT[lang]
    options = []
    for build in (_firehose, _glue, _flink):
        option = build(request, evidence, text)
        missing = [n for n in request.needs if NEEDS[n] not in EXPRESSIBLE[option.name]]
        if missing:
            option.reasons.insert(0, text["cannot"].format(what=", ".join(missing)))
        option.fits = not option.reasons
        options.append(option)
    return options


def cheapest(options: list[Option]) -> Option | None:
    """The cheapest option that fits, or None."""
    fitting = [o for o in options if o.fits]
    return min(fitting, key=lambda o: o.usd_per_month) if fitting else None


def decision_map(request: Request, evidence: Evidence) -> dict[str, Any]:
    """Over the cost sweep's rates and `MAP_SIZES`, the cheapest option that fits (None where none does)."""
    grid = []
    for size in MAP_SIZES:
        row = []
        for rate in SWEEP_RATES:
            at = Request(rate, size, request.latency_slo_s, request.needs, request.region)
            best = cheapest(options_for(at, evidence))
            row.append(best.name if best else None)
        grid.append(row)
    changes = []
    for size, row in zip(MAP_SIZES, grid, strict=True):
        for (rate_a, a), (rate_b, b) in itertools.pairwise(zip(SWEEP_RATES, row, strict=True)):
            if a != b:
                changes.append({"record_bytes": size, "between_events_per_s": [rate_a, rate_b], "from": a, "to": b})
    return {"rates": list(SWEEP_RATES), "sizes": list(MAP_SIZES), "cheapest": grid, "changes": changes}


def map_svg(grid: dict[str, Any], request: Request) -> str:
    """The decision map as an SVG chart."""
    from matplotlib.colors import ListedColormap

    from comparison.charts import log_log, new_figure, svg_of

    names = [*OPTIONS, None]
    colors = ["#d9822b", "#2b6cb0", "#2f9e44", "#dddddd"]
    figure, axes = new_figure(f"Cheapest option that fits (latency goal {duration(request.latency_slo_s)})")
    values = [[names.index(cell) for cell in row] for row in grid["cheapest"]]
    rates, sizes = grid["rates"], grid["sizes"]
    x_edges, y_edges = _edges(rates, 10 ** (1 / 6)), _edges(sizes, 1.4)
    axes.pcolormesh(x_edges, y_edges, values, cmap=ListedColormap(colors), vmin=-0.5, vmax=len(names) - 0.5)
    log_log(axes, "record size, bytes (log scale)")
    axes.plot(
        [request.rate],
        [request.record_bytes],
        marker="*",
        color="black",
        markersize=14,
        linestyle="none",
        label="this workload",
    )
    for index, name in enumerate(names):
        label = TEXT["en"]["titles"][name] if name else "none fits"
        axes.fill_between([], [], color=colors[index], label=label)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    return svg_of(figure)


def _edges(centres: list[float], outer: float) -> list[float]:
    """Cell edges on a log axis: geometric midpoints, and `outer` times beyond the ends."""
    inner = [math.sqrt(a * b) for a, b in itertools.pairwise(centres)]
    return [centres[0] / outer, *inner, centres[-1] * outer]


def advise(request: Request, evidence: Evidence, lang: str = "en") -> dict[str, Any]:
    """The whole answer as JSON-ready data."""
    options = options_for(request, evidence, lang)
    best = cheapest(options)
    return {
        "request": asdict(request),
        "evidence": asdict(evidence),
        "options": [asdict(option) for option in options],
        "advice": best.name if best else None,
        "decision_map": decision_map(request, evidence),
    }


def cmd_advise(args) -> int:
    """Print the advice (or its JSON) and write the decision map."""
    request = Request(
        args.rate, args.record_bytes, parse_duration(args.latency_slo), parse_needs(args.needs), args.region
    )
    evidence = Evidence.gather(Path(args.report) if args.report else None)
    answer = advise(request, evidence, args.lang)
    out = Path(args.map)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(map_svg(answer["decision_map"], request))
    answer["decision_map"]["svg"] = str(out)
    if args.json:
        import json

        print(json.dumps(answer, indent=1))
    else:
        print(plain_text(answer, args.lang))
        print(TEXT[args.lang]["map"].format(path=out))
    return 0


def add_advise_parser(commands) -> None:
    """Register `advise` on the CLI."""
    parser = commands.add_parser(
        "advise",
        help="which path fits a workload, at what latency and cost (with Managed Flink modelled)",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--rate", type=float, required=True, help="events per second")
    parser.add_argument("--record-bytes", type=int, required=True, help="bytes per record (at most 1 MiB)")
    parser.add_argument("--latency-slo", required=True, help="latency goal, send to visible: 500ms, 60s, 5m, 1h")
    parser.add_argument("--needs", default="", help=f"comma-separated requirements: {', '.join(NEEDS)}")
    parser.add_argument("--region", default="us-east-1", help="pricing region (default us-east-1)")
    parser.add_argument("--lang", choices=list(TEXT), default="en", help="language of the answer")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument("--report", metavar="PATH", help="report.json to take measured figures from (default: latest)")
    parser.add_argument("--map", default="runs/advise/decision_map.svg", help="where to write the decision map")
    parser.set_defaults(handler=cmd_advise)
