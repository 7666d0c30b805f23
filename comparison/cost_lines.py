"""The cost model's service lines: each service's monthly bill for a workload, with its formula and inputs.

Every line carries the inputs of its formula and the prices it used, so a report can show the arithmetic
and how certain each figure is. Path A is Kinesis Data Streams -> Firehose (stream as source) -> Lambda
transformation -> S3; path B is the same stream -> a Glue streaming job -> S3; Managed Service for Apache
Flink is modelled from its documentation only.

Pricing pages: https://aws.amazon.com/firehose/pricing/, https://aws.amazon.com/lambda/pricing/,
https://aws.amazon.com/kinesis/data-streams/pricing/, https://aws.amazon.com/glue/pricing/,
https://aws.amazon.com/s3/pricing/, https://aws.amazon.com/managed-service-apache-flink/pricing/.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from comparison.cost_workload import Flows, Workload
from comparison.pricing import Price, Pricing, ceil_units, firehose_billed_bytes, least_certain, round_up, tiered_usd

PathName = Literal["firehose_lambda", "kinesis_glue", "managed_flink"]
Number = float | int

# Firehose reads a Kinesis source by polling it, about once a second (as consumers of a stream do,
# and as the local simulator does): with a zero processor interval, that poll is what batches records.
_SOURCE_POLL_INTERVAL_S = 1.0


@dataclass(frozen=True)
class CostLine:
    """One service line of a path: its monthly cost, the formula, and the inputs of that formula."""

    service: str
    usd_per_month: float
    formula: str
    inputs: Mapping[str, Number | str]
    prices: tuple[Price, ...]

    @property
    def status(self) -> str:
        """The least certain status among the prices this line uses."""
        return least_certain(self.prices)

    @property
    def arithmetic(self) -> str:
        """The formula with its inputs written in."""
        return self.formula.format(**{k: _fmt(v) for k, v in self.inputs.items()}) + f" = ${self.usd_per_month:,.2f}"

    def to_dict(self) -> dict[str, Any]:
        """The line as JSON-ready data."""
        return {
            "service": self.service,
            "usd_per_month": self.usd_per_month,
            "formula": self.formula,
            "arithmetic": self.arithmetic,
            "inputs": dict(self.inputs),
            "status": self.status,
            "prices": [p.name for p in self.prices],
        }


@dataclass(frozen=True)
class PathCost:
    """A path's monthly cost by service line."""

    path: PathName
    lines: tuple[CostLine, ...]

    @property
    def usd_per_month(self) -> float:
        """The path's total."""
        return sum(line.usd_per_month for line in self.lines)

    def line(self, service: str) -> CostLine:
        """The line of one service."""
        for line in self.lines:
            if line.service == service:
                return line
        raise KeyError(f"{self.path} has no {service!r} line")

    def to_dict(self) -> dict[str, Any]:
        """The path as JSON-ready data."""
        return {"usd_per_month": self.usd_per_month, "lines": [line.to_dict() for line in self.lines]}


def _fmt(value: Number | str) -> str:
    if isinstance(value, str):
        return value
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) < 0.01:
        return f"{value:.10f}".rstrip("0")
    return f"{value:,.6g}"


def kinesis_line(w: Workload, p: Pricing, f: Flows) -> CostLine:
    """The stream as one path alone would need it: on demand (stream-hours, GB in and out) or provisioned
    (shard-hours and PUT payload units)."""
    gb = p.number("GB")
    if w.kinesis_mode == "provisioned":
        by_bytes = w.events_per_s * w.record_size_bytes / p.number("kds_shard_write_bytes_per_s")
        by_records = w.events_per_s / w.records_per_kinesis_record / p.number("kds_shard_write_records_per_s")
        shards = max(1, ceil_units(max(by_bytes, by_records)))
        units_per_record = ceil_units(f.kinesis_record_bytes / p.number("kds_put_payload_unit_bytes"))
        put_units = f.kinesis_records * units_per_record
        usd_shard_hour = p.number("kds_provisioned_shard_hour")
        usd_per_million_units = p.number("kds_provisioned_put_payload_units")
        return CostLine(
            "kinesis",
            shards * w.hours_per_month * usd_shard_hour + put_units / 1e6 * usd_per_million_units,
            "{shards} shards (max of {shards_by_bytes} by bytes, {shards_by_records} by records, rounded up) x "
            "{hours} h x ${usd_per_shard_hour} + {put_payload_units} PUT payload units "
            "({units_per_record} per Kinesis record) / 1e6 x ${usd_per_million_units}",
            {
                "mode": w.kinesis_mode,
                "shards": shards,
                "shards_by_bytes": by_bytes,
                "shards_by_records": by_records,
                "hours": w.hours_per_month,
                "usd_per_shard_hour": usd_shard_hour,
                "put_payload_units": put_units,
                "units_per_record": units_per_record,
                "usd_per_million_units": usd_per_million_units,
            },
            p.entries(
                "kds_provisioned_shard_hour",
                "kds_provisioned_put_payload_units",
                "kds_put_payload_unit_bytes",
                "kds_shard_write_bytes_per_s",
                "kds_shard_write_records_per_s",
            ),
        )
    billed_record = round_up(f.kinesis_record_bytes, p.number("kds_on_demand_in_increment"))
    gb_in = f.kinesis_records * billed_record / gb
    # One consumer: the path itself reads every record once.
    gb_out = f.bytes_in / gb
    usd_hour, usd_in, usd_out = (
        p.number(n) for n in ("kds_on_demand_stream_hour", "kds_on_demand_gb_in", "kds_on_demand_gb_out")
    )
    return CostLine(
        "kinesis",
        w.hours_per_month * usd_hour + gb_in * usd_in + gb_out * usd_out,
        "{hours} stream-hours x ${usd_per_stream_hour} + {gb_in} GB in ({records} records x {billed_record_bytes} B) "
        "x ${usd_per_gb_in} + {gb_out} GB out x ${usd_per_gb_out}",
        {
            "mode": w.kinesis_mode,
            "hours": w.hours_per_month,
            "usd_per_stream_hour": usd_hour,
            "records": f.kinesis_records,
            "billed_record_bytes": billed_record,
            "gb_in": gb_in,
            "usd_per_gb_in": usd_in,
            "gb_out": gb_out,
            "usd_per_gb_out": usd_out,
        },
        p.entries(
            "kds_on_demand_stream_hour", "kds_on_demand_gb_in", "kds_on_demand_in_increment", "kds_on_demand_gb_out"
        ),
    )


def firehose_ingestion_line(p: Pricing, f: Flows) -> CostLine:
    """Firehose ingestion: each record read from the stream rounded up to 5 KB, billed by tier."""
    billed_record = firehose_billed_bytes(math.ceil(f.kinesis_record_bytes), p.region)
    billed_gb = f.kinesis_records * billed_record / p.number("GB")
    usd, bands = tiered_usd(billed_gb, p.tiers("firehose_ingestion"))
    return CostLine(
        "firehose_ingestion",
        usd,
        "{records} records x {billed_record_bytes} B (each record rounded up to 5 KB) = {billed_gb} GB, "
        "billed by tier: {bands}"
        + (
            " (KPL aggregates of {records_per_kinesis_record} records each, billed as one record: UNCONFIRMED, "
            "the pricing page does not say whether Firehose bills aggregates or the records it unpacks)"
            if f.records > f.kinesis_records
            else ""
        ),
        {
            "records": f.kinesis_records,
            "records_per_kinesis_record": f.records / f.kinesis_records,
            "record_size_bytes": f.kinesis_record_bytes,
            "billed_record_bytes": billed_record,
            "billed_gb": billed_gb,
            "bands": " + ".join(f"{_fmt(q)} GB x ${_fmt(rate)}" for q, rate in bands),
        },
        p.entries("firehose_ingestion", "firehose_ingestion_increment", "TB"),
    )


def firehose_batches(w: Workload, p: Pricing, f: Flows) -> tuple[float, float]:
    """Lambda invocations and S3 objects a month: a buffer flushes when full or when its interval ends."""
    mb = p.number("MB")
    by_size = f.bytes_in / (w.processor_buffer_mb * mb)
    by_time = f.seconds / max(w.processor_interval_s, _SOURCE_POLL_INTERVAL_S)
    # No invocation without a record in it.
    invocations = min(f.records, max(by_size, by_time))
    objects_by_size = f.bytes_out / (w.delivery_buffer_mb * mb)
    # An interval flush writes at most what the processor has handed over since the last one.
    objects_by_time = invocations if w.delivery_interval_s == 0 else min(invocations, f.seconds / w.delivery_interval_s)
    return invocations, max(objects_by_size, objects_by_time)


def lambda_lines(w: Workload, p: Pricing, f: Flows, invocations: float) -> tuple[CostLine, CostLine]:
    """The transformation Lambda's duration (GB-seconds, rounded per invocation) and requests."""
    records_per_invocation = f.records / invocations
    granularity = p.number("lambda_duration_granularity_ms")
    billed_ms = round_up(records_per_invocation * w.lambda_ms_per_record, granularity)
    memory_gb = w.lambda_memory_mb / 1024
    gb_s = invocations * billed_ms / 1000 * memory_gb
    duration_price = f"lambda_duration_{w.lambda_architecture}"
    usd_gb_s = p.number(duration_price)
    usd_million = p.number("lambda_requests")
    duration = CostLine(
        "lambda_duration",
        gb_s * usd_gb_s,
        "{invocations} invocations x {billed_ms_per_invocation} ms ({records_per_invocation} records x "
        "{ms_per_record} ms, rounded up to {granularity_ms} ms) / 1000 x {memory_gb} GB = {gb_seconds} GB-s "
        "x ${usd_per_gb_second} ({architecture})",
        {
            "invocations": invocations,
            "records_per_invocation": records_per_invocation,
            "ms_per_record": w.lambda_ms_per_record,
            "billed_ms_per_invocation": billed_ms,
            "granularity_ms": granularity,
            "memory_gb": memory_gb,
            "gb_seconds": gb_s,
            "usd_per_gb_second": usd_gb_s,
            "architecture": w.lambda_architecture,
        },
        p.entries(duration_price, "lambda_duration_granularity_ms"),
    )
    requests = CostLine(
        "lambda_requests",
        invocations / 1e6 * usd_million,
        "{invocations} invocations / 1e6 x ${usd_per_million}",
        {"invocations": invocations, "usd_per_million": usd_million},
        p.entries("lambda_requests"),
    )
    return duration, requests


def dynamic_partitioning_line(p: Pricing, f: Flows, objects: float) -> CostLine:
    """Firehose dynamic partitioning: per GB delivered and per 1,000 objects written."""
    gb = f.bytes_out / p.number("GB")
    usd_gb = p.number("firehose_dynamic_partitioning_gb")
    usd_thousand = p.number("firehose_dynamic_partitioning_objects")
    return CostLine(
        "firehose_dynamic_partitioning",
        gb * usd_gb + objects / 1000 * usd_thousand,
        "{gb} GB delivered x ${usd_per_gb} + {objects} objects / 1000 x ${usd_per_thousand_objects}",
        {"gb": gb, "usd_per_gb": usd_gb, "objects": objects, "usd_per_thousand_objects": usd_thousand},
        p.entries("firehose_dynamic_partitioning_gb", "firehose_dynamic_partitioning_objects"),
    )


def glue_line(w: Workload, p: Pricing) -> CostLine:
    """The always-on Glue streaming job's DPU-hours."""
    dpu = p.worker_dpu(w.glue_worker_type)
    billed_s = max(
        p.number("glue_billing_minimum_s"), round_up(w.hours_per_month * 3600, p.number("glue_billing_increment_s"))
    )
    billed_hours = billed_s / 3600
    usd_dpu_hour = p.number("glue_dpu_hour")
    return CostLine(
        "glue_dpu",
        w.glue_workers * dpu * billed_hours * usd_dpu_hour,
        "{workers} x {worker_type} ({dpu_per_worker} DPU) x {billed_hours} h (always on) x ${usd_per_dpu_hour}",
        {
            "workers": w.glue_workers,
            "worker_type": w.glue_worker_type,
            "dpu_per_worker": dpu,
            "billed_hours": billed_hours,
            "usd_per_dpu_hour": usd_dpu_hour,
        },
        p.entries("glue_dpu_hour", "glue_worker_dpu", "glue_billing_increment_s", "glue_billing_minimum_s"),
    )


def s3_lines(w: Workload, p: Pricing, f: Flows, objects: float) -> tuple[CostLine, ...]:
    """S3 PUTs of the objects a path writes, downstream GETs of them, and a month of storage."""
    usd_put, usd_get, usd_gb_month = (p.number(n) for n in ("s3_put", "s3_get", "s3_standard_storage"))
    reads = objects * w.downstream_reads_per_object
    gb = f.bytes_out / p.number("GB")
    return (
        CostLine(
            "s3_put",
            objects / 1000 * usd_put,
            "{objects} objects / 1000 x ${usd_per_thousand}",
            {"objects": objects, "usd_per_thousand": usd_put},
            p.entries("s3_put"),
        ),
        CostLine(
            "s3_get",
            reads / 1000 * usd_get,
            "{objects} objects x {reads_per_object} downstream reads / 1000 x ${usd_per_thousand}",
            {"objects": objects, "reads_per_object": w.downstream_reads_per_object, "usd_per_thousand": usd_get},
            p.entries("s3_get"),
        ),
        CostLine(
            "s3_storage",
            gb * usd_gb_month,
            "{gb} GB a month ({output_size_ratio} x input) x ${usd_per_gb_month} per GB-month",
            {"gb": gb, "output_size_ratio": w.output_size_ratio, "usd_per_gb_month": usd_gb_month},
            p.entries("s3_standard_storage"),
        ),
    )


def flink_lines(w: Workload, p: Pricing, kpus: int) -> tuple[CostLine, CostLine]:
    """A Managed Service for Apache Flink application's KPU-hours (plus its orchestration KPU) and running
    storage."""
    extra = p.number("flink_orchestration_kpu")
    usd_kpu_hour = p.number("flink_kpu_hour")
    storage_gb = kpus * p.number("flink_storage_gb_per_kpu")
    usd_gb_month = p.number("flink_running_storage_gb_month")
    compute = CostLine(
        "flink_kpu",
        (kpus + extra) * w.hours_per_month * usd_kpu_hour,
        "({kpus} KPU + {orchestration_kpu} orchestration KPU) x {hours} h (always on) x ${usd_per_kpu_hour}",
        {"kpus": kpus, "orchestration_kpu": extra, "hours": w.hours_per_month, "usd_per_kpu_hour": usd_kpu_hour},
        p.entries("flink_kpu_hour", "flink_orchestration_kpu"),
    )
    storage = CostLine(
        "flink_storage",
        storage_gb * usd_gb_month,
        "{storage_gb} GB running storage ({kpus} KPU x {gb_per_kpu} GB) x ${usd_per_gb_month}",
        {
            "storage_gb": storage_gb,
            "kpus": kpus,
            "gb_per_kpu": p.number("flink_storage_gb_per_kpu"),
            "usd_per_gb_month": usd_gb_month,
        },
        p.entries("flink_running_storage_gb_month", "flink_storage_gb_per_kpu"),
    )
    return compute, storage
