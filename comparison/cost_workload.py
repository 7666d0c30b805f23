"""What the cost model prices: a `Workload` (the traffic both paths carry and their settings) and the monthly
volumes it implies (`Flows`), KPL aggregation included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from comparison import kpl

KinesisMode = Literal["on-demand", "provisioned"]
Architecture = Literal["x86_64", "arm64"]


@dataclass(frozen=True, kw_only=True)
class Workload:
    """What both paths carry and how they are configured.

    Lambda, Firehose and Kinesis defaults are the SAM template's; Glue's are the smallest streaming
    job and Glue's default 100-second window. `lambda_ms_per_record` is measured by the harness (the
    handler's duration divided by its records); `glue_workers` comes from `glue_workers_for` and the
    measured throughput of a worker; `glue_objects_per_window` is the S3 objects one Glue micro-batch
    writes (default: one curated partition, one aggregates object, one manifest, one attempt marker),
    which a run can count. The Firehose knobs are named as the simulator's `FirehoseSettings` names them.
    """

    events_per_s: float
    record_size_bytes: int
    lambda_ms_per_record: float
    hours_per_month: float = 730.0
    lambda_memory_mb: int = 512
    lambda_architecture: Architecture = "x86_64"
    processor_buffer_mb: float = 1.0
    processor_interval_s: float = 60.0
    delivery_buffer_mb: float = 5.0
    delivery_interval_s: float = 300.0
    # Firehose's dynamic partitioning (the Glue job partitions its output whatever this says).
    dynamic_partitioning: bool = False
    kinesis_mode: KinesisMode = "on-demand"
    glue_worker_type: str = "G.025X"
    glue_workers: int = 2
    glue_window_s: float = 100.0
    glue_objects_per_window: int = 4
    output_size_ratio: float = 1.0
    downstream_reads_per_object: float = 1.0
    # KPL aggregation: user records per Kinesis record (1: no aggregation; at most what fits in one
    # aggregate of the KPL's default size). Kinesis bills Kinesis records;
    # Firehose is taken to bill the records it reads from the stream (the aggregates): its pricing page
    # does not say which, so that part is UNCONFIRMED. Lambda and Glue see user records.
    records_per_kinesis_record: float = 1.0

    def __post_init__(self) -> None:
        problems = [
            name
            for name, ok in (
                ("events_per_s > 0", self.events_per_s > 0),
                ("record_size_bytes > 0", self.record_size_bytes > 0),
                ("lambda_ms_per_record >= 0", self.lambda_ms_per_record >= 0),
                ("hours_per_month > 0", self.hours_per_month > 0),
                ("lambda_memory_mb > 0", self.lambda_memory_mb > 0),
                ("lambda_architecture is x86_64 or arm64", self.lambda_architecture in ("x86_64", "arm64")),
                ("processor_buffer_mb in 0.2..3", 0.2 <= self.processor_buffer_mb <= 3),
                ("processor_interval_s in 0..900", 0 <= self.processor_interval_s <= 900),
                ("delivery_buffer_mb in 1..128", 1 <= self.delivery_buffer_mb <= 128),
                ("delivery_interval_s in 0..900", 0 <= self.delivery_interval_s <= 900),
                (
                    "no zero buffering with dynamic partitioning",
                    not (self.dynamic_partitioning and self.delivery_interval_s == 0),
                ),
                ("kinesis_mode is on-demand or provisioned", self.kinesis_mode in ("on-demand", "provisioned")),
                ("glue_workers > 0", self.glue_workers > 0),
                ("glue_window_s > 0", self.glue_window_s > 0),
                ("glue_objects_per_window >= 0", self.glue_objects_per_window >= 0),
                ("output_size_ratio >= 0", self.output_size_ratio >= 0),
                ("downstream_reads_per_object >= 0", self.downstream_reads_per_object >= 0),
                ("records_per_kinesis_record >= 1", self.records_per_kinesis_record >= 1),
            )
            if not ok
        ]
        if problems:
            raise ValueError(f"invalid workload: {'; '.join(problems)}")


@dataclass(frozen=True)
class Flows:
    """Monthly volumes both paths share."""

    seconds: float
    records: float
    bytes_in: float
    bytes_out: float
    kinesis_records: float
    kinesis_record_bytes: float


def flows(w: Workload) -> Flows:
    """The month's records and bytes of `w`, in user records and in the Kinesis records that carry them."""
    seconds = w.hours_per_month * 3600
    records = w.events_per_s * seconds
    k = w.records_per_kinesis_record
    kinesis_record_bytes = float(w.record_size_bytes)
    if k > 1:
        # No more than fit in one KPL aggregate of this record size (a sweep varies the size, not the count),
        # and each aggregate carries its framing (comparison/kpl.py).
        per_record = w.record_size_bytes + kpl.RECORD_OVERHEAD_BYTES
        fit = (kpl.DEFAULT_MAX_BYTES - kpl.AGGREGATE_OVERHEAD_BYTES) // per_record
        k = min(k, max(1.0, float(fit)))
        if k > 1:
            kinesis_record_bytes = kpl.AGGREGATE_OVERHEAD_BYTES + k * per_record
    return Flows(
        seconds,
        records,
        records * w.record_size_bytes,
        records * w.record_size_bytes * w.output_size_ratio,
        records / k,
        kinesis_record_bytes,
    )
