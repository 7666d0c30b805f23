"""Where the cheaper path changes: both paths' costs swept over throughput and record size, the crossovers
found in the sweep, and the cost section of the comparison report built from them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from comparison.cost import CostEstimate, estimate, glue_workers_for
from comparison.cost_lines import PathName
from comparison.cost_workload import Workload

# 10 to 100,000 events/s, three points a decade.
SWEEP_RATES: tuple[float, ...] = tuple(10 ** (1 + i / 3) for i in range(13))
SWEEP_RECORD_SIZES: tuple[int, ...] = (200, 1024, 5120)


@dataclass(frozen=True)
class SweepPoint:
    """Both paths' monthly totals at one throughput and record size."""

    events_per_s: float
    record_size_bytes: int
    glue_workers: int
    firehose_lambda_usd: float
    kinesis_glue_usd: float

    @property
    def cheaper(self) -> PathName:
        """The cheaper path here (Firehose on a tie)."""
        return "firehose_lambda" if self.firehose_lambda_usd <= self.kinesis_glue_usd else "kinesis_glue"


def sweep(
    workload: Workload,
    glue_events_per_s_per_worker: float,
    *,
    region: str = "us-east-1",
    rates: Sequence[float] = SWEEP_RATES,
    record_sizes: Sequence[int] = SWEEP_RECORD_SIZES,
) -> tuple[SweepPoint, ...]:
    """Both paths' totals over `rates` x `record_sizes`, everything else as in `workload`.

    The Glue job is sized at each rate with `glue_workers_for` (the workload's own `glue_workers`
    is not used). Points are ordered by record size, then rate.
    """
    points = []
    for size in record_sizes:
        for rate in sorted(rates):
            workers = glue_workers_for(rate, glue_events_per_s_per_worker)
            point = estimate(replace(workload, events_per_s=rate, record_size_bytes=size, glue_workers=workers), region)
            points.append(
                SweepPoint(rate, size, workers, point.firehose_lambda.usd_per_month, point.kinesis_glue.usd_per_month)
            )
    return tuple(points)


@dataclass(frozen=True)
class Crossover:
    """Where the cheaper path changes for one record size within a sweep.

    `events_per_s` is the first change, interpolated in log space between the two sweep points
    in `bracket` (None: the same path is cheaper across the sweep). `changes` lists every change.
    """

    record_size_bytes: int
    events_per_s: float | None
    bracket: tuple[float, float] | None
    cheaper_at_lowest: PathName
    cheaper_at_highest: PathName
    changes: tuple[float, ...] = ()


def crossovers(points: Sequence[SweepPoint]) -> tuple[Crossover, ...]:
    """For each record size in `points`, the throughput where the cheaper path changes.

    Between two consecutive rates with different cheaper paths, the cost difference is taken as linear
    in log(rate) and its zero is returned.
    """
    result = []
    for size in dict.fromkeys(pt.record_size_bytes for pt in points):
        series = sorted((pt for pt in points if pt.record_size_bytes == size), key=lambda pt: pt.events_per_s)
        changes: list[tuple[float, tuple[float, float]]] = []
        for lo, hi in itertools.pairwise(series):
            if lo.cheaper == hi.cheaper:
                continue
            d_lo = lo.firehose_lambda_usd - lo.kinesis_glue_usd
            d_hi = hi.firehose_lambda_usd - hi.kinesis_glue_usd
            log_lo, log_hi = math.log(lo.events_per_s), math.log(hi.events_per_s)
            at = math.exp(log_lo + (log_hi - log_lo) * d_lo / (d_lo - d_hi))
            changes.append((at, (lo.events_per_s, hi.events_per_s)))
        first = changes[0] if changes else None
        result.append(
            Crossover(
                record_size_bytes=size,
                events_per_s=first[0] if first else None,
                bracket=first[1] if first else None,
                cheaper_at_lowest=series[0].cheaper,
                cheaper_at_highest=series[-1].cheaper,
                changes=tuple(at for at, _ in changes),
            )
        )
    return tuple(result)


@dataclass(frozen=True)
class CostReport:
    """The cost section of the comparison report: the measured workload, the sweep and its crossovers."""

    estimate: CostEstimate
    glue_events_per_s_per_worker: float
    points: tuple[SweepPoint, ...]
    crossovers: tuple[Crossover, ...]

    def to_dict(self) -> dict[str, Any]:
        """`CostEstimate.to_dict()` plus `sweep` (`glue_events_per_s_per_worker`, `points`) and `crossovers`."""
        return {
            **self.estimate.to_dict(),
            "sweep": {
                "glue_events_per_s_per_worker": self.glue_events_per_s_per_worker,
                "points": [{**asdict(pt), "cheaper": pt.cheaper} for pt in self.points],
            },
            "crossovers": [
                {**asdict(c), "bracket": list(c.bracket) if c.bracket else None, "changes": list(c.changes)}
                for c in self.crossovers
            ],
        }


def cost_report(workload: Workload, glue_events_per_s_per_worker: float, region: str = "us-east-1") -> CostReport:
    """The estimate at `workload`, the default sweep around it, and where the cheaper path changes."""
    points = sweep(workload, glue_events_per_s_per_worker, region=region)
    return CostReport(estimate(workload, region), glue_events_per_s_per_worker, points, crossovers(points))
