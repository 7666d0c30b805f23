"""The cost model: what each path costs a month at a given workload.

Pure functions over a `Workload` (comparison/cost_workload.py) and the prices in `comparison/data/pricing.json`
(comparison/pricing.py), summed from each service's line (comparison/cost_lines.py). Path A is Kinesis Data
Streams -> Firehose (stream as source) -> Lambda transformation -> S3; path B is the same stream -> a Glue
streaming job -> S3. Where the cheaper path changes with throughput is comparison/sweep.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from comparison.cost_lines import (
    PathCost,
    PathName,
    dynamic_partitioning_line,
    firehose_batches,
    firehose_ingestion_line,
    flink_lines,
    glue_line,
    kinesis_line,
    lambda_lines,
    s3_lines,
)
from comparison.cost_workload import Workload, flows
from comparison.pricing import Price, ceil_units, pricing, provenance

# The two paths this project runs; managed_flink is modelled from documentation by `advise`, never run.
PATHS: tuple[PathName, PathName] = ("firehose_lambda", "kinesis_glue")

NOTES: tuple[str, ...] = (
    "Prices are list prices without free tiers, Savings Plans or volume discounts across other usage of the account.",
    "Firehose ingestion tiers are applied to this delivery stream's volume alone.",
    "Each path's `kinesis` line is the stream as that path alone would need it (one consumer); "
    "the same stream serves both, so the line is the same in both paths and is not a difference between them.",
    "Lambda invocations and Firehose S3 objects are estimated from the buffering hints; with a zero interval, "
    "Firehose is taken to batch what one poll of the stream (about once a second) returns.",
    "S3 storage is one month's output kept for one month; S3 GETs are the downstream reads of each object.",
    "Glue S3 objects per window are an input (curated partitions + aggregates + manifests + attempt markers); "
    "Spark checkpoint and state-store writes are not counted.",
    "The sweep holds the Lambda's duration per record and a Glue worker's events/s fixed across record sizes.",
    "Not modelled: KMS for the stream's encryption, CloudWatch, data transfer, Firehose format conversion; "
    "the Managed Service for Apache Flink price is in the pricing file for reference only.",
)


def glue_workers_for(events_per_s: float, measured_events_per_s_per_worker: float) -> int:
    """Glue workers an always-on streaming job needs for `events_per_s`, at the throughput one worker
    was measured to sustain; never fewer than the smallest streaming job has."""
    if events_per_s < 0 or measured_events_per_s_per_worker <= 0:
        raise ValueError("events_per_s must be >= 0 and the measured throughput per worker > 0")
    minimum = int(pricing().number("glue_streaming_min_workers"))
    return max(minimum, ceil_units(events_per_s / measured_events_per_s_per_worker))


def _prices_of(paths: Sequence[PathCost]) -> list[Price]:
    return list({p.name: p for path in paths for line in path.lines for p in line.prices}.values())


@dataclass(frozen=True)
class CostEstimate:
    """Both paths' monthly cost for one workload in one region."""

    region: str
    workload: Workload
    firehose_lambda: PathCost
    kinesis_glue: PathCost

    @property
    def cheaper(self) -> PathName:
        """The cheaper path (Firehose on a tie)."""
        return (
            "firehose_lambda"
            if self.firehose_lambda.usd_per_month <= self.kinesis_glue.usd_per_month
            else "kinesis_glue"
        )

    def to_dict(self) -> dict[str, Any]:
        """`region`, `currency`, `pricing_date`, `pricing_source` (URLs), `pricing_status`, `workload`,
        `paths` (per path: `usd_per_month` and `lines`), `cheaper`, `notes`."""
        paths = (self.firehose_lambda, self.kinesis_glue)
        return {
            **provenance(self.region, _prices_of(paths)),
            "workload": asdict(self.workload),
            "paths": {path.path: path.to_dict() for path in paths},
            "cheaper": self.cheaper,
            "notes": list(NOTES),
        }


def estimate(workload: Workload, region: str = "us-east-1") -> CostEstimate:
    """The monthly cost of both paths for `workload` at `region`'s list prices."""
    p = pricing(region)
    max_record = min(p.number("firehose_record_max_bytes"), p.number("kds_record_max_bytes"))
    if workload.record_size_bytes > max_record:
        raise ValueError(f"a record of {workload.record_size_bytes} bytes exceeds the {max_record:,.0f}-byte maximum")
    f = flows(workload)
    invocations, firehose_objects = firehose_batches(workload, p, f)
    firehose_lines = [kinesis_line(workload, p, f), firehose_ingestion_line(p, f)]
    if workload.dynamic_partitioning:
        firehose_lines.append(dynamic_partitioning_line(p, f, firehose_objects))
    firehose_lines += [
        *lambda_lines(workload, p, f, invocations),
        *s3_lines(workload, p, f, firehose_objects),
    ]
    return CostEstimate(
        region=region,
        workload=workload,
        firehose_lambda=PathCost("firehose_lambda", tuple(firehose_lines)),
        kinesis_glue=glue_estimate(workload, region),
    )


def glue_estimate(workload: Workload, region: str = "us-east-1") -> PathCost:
    """The Glue path's monthly cost alone: it takes records up to Kinesis's 1 MiB, beyond Firehose's limit."""
    p = pricing(region)
    if workload.record_size_bytes > p.number("kds_record_max_bytes"):
        raise ValueError(
            f"a record of {workload.record_size_bytes} bytes exceeds Kinesis's "
            f"{p.number('kds_record_max_bytes'):,.0f}-byte maximum"
        )
    f = flows(workload)
    glue_objects = f.seconds / workload.glue_window_s * workload.glue_objects_per_window
    return PathCost(
        "kinesis_glue",
        (kinesis_line(workload, p, f), glue_line(workload, p), *s3_lines(workload, p, f, glue_objects)),
    )


def flink_estimate(workload: Workload, kpus: int, region: str = "us-east-1") -> PathCost:
    """Amazon Managed Service for Apache Flink reading the same stream and writing S3 as the Glue job does:
    `kpus` KPUs plus the application's orchestration KPU, always on, and 50 GB of running storage per KPU.
    Modelled from the pricing page, never run here."""
    if kpus < 1:
        raise ValueError(f"a Flink application needs at least 1 KPU, not {kpus}")
    p = pricing(region)
    f = flows(workload)
    objects = f.seconds / workload.glue_window_s * workload.glue_objects_per_window
    return PathCost(
        "managed_flink",
        (
            kinesis_line(workload, p, f),
            *flink_lines(workload, p, kpus),
            *s3_lines(workload, p, f, objects),
        ),
    )
