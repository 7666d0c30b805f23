"""The cost model: what each path costs a month at a given workload, and where the cheaper path changes.

Pure functions over a `Workload` and the prices in `comparison/data/pricing.json` (each with its
source, date and status; see that file). Path A is Kinesis Data Streams -> Firehose (stream as
source) -> Lambda transformation -> S3; path B is the same stream -> a Glue streaming job -> S3.
Every service line carries the inputs of its formula, so a report can show the arithmetic.

Pricing pages: https://aws.amazon.com/firehose/pricing/, https://aws.amazon.com/lambda/pricing/,
https://aws.amazon.com/kinesis/data-streams/pricing/, https://aws.amazon.com/glue/pricing/,
https://aws.amazon.com/s3/pricing/.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from importlib import resources
from typing import Any, Literal

from comparison import kpl

KinesisMode = Literal["on-demand", "provisioned"]
Architecture = Literal["x86_64", "arm64"]
PathName = Literal["firehose_lambda", "kinesis_glue", "managed_flink"]
# The two paths this project runs; managed_flink is modelled from documentation by `advise`, never run.
PATHS: tuple[PathName, PathName] = ("firehose_lambda", "kinesis_glue")

# 10 to 100,000 events/s, three points a decade.
SWEEP_RATES: tuple[float, ...] = tuple(10 ** (1 + i / 3) for i in range(13))
SWEEP_RECORD_SIZES: tuple[int, ...] = (200, 1024, 5120)

# Firehose reads a Kinesis source by polling it, about once a second (as consumers of a stream do,
# and as the local simulator does): with a zero processor interval, that poll is what batches records.
_SOURCE_POLL_INTERVAL_S = 1.0
# Absorbs float noise in a division before rounding up (2.1 / 0.3 is 7.000000000000001: 7 units, not 8).
_CEIL_TOLERANCE = 1e-9
_STATUS_ORDER = ("confirmed", "assumption", "from price-list copies", "UNCONFIRMED")

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


class UnknownRegionError(ValueError):
    """The pricing file has no prices for the region asked for."""


@dataclass(frozen=True)
class Price:
    """One price, limit or billing unit from the pricing file, with where it comes from."""

    name: str
    value: Any
    unit: str
    source: str
    as_of: str
    status: str


@dataclass(frozen=True)
class Tier:
    """A band of a tiered price: `tier_gb` GB a month at `usd_per_gb` (None: everything above)."""

    tier_gb: float | None
    usd_per_gb: float


@dataclass(frozen=True)
class Pricing:
    """The prices of one region, the region-independent limits, and the byte units the prices count in."""

    region: str
    prices: Mapping[str, Price]
    limits: Mapping[str, Price]
    units: Mapping[str, Price]

    def entry(self, name: str) -> Price:
        """A price, limit or unit by name; KeyError names the file if it is missing."""
        for table in (self.prices, self.limits, self.units):
            if name in table:
                return table[name]
        raise KeyError(f"{name!r} is not in comparison/data/pricing.json")

    def entries(self, *names: str) -> tuple[Price, ...]:
        """Several entries by name, to record which prices a cost line used."""
        return tuple(self.entry(name) for name in names)

    def number(self, name: str) -> float:
        """The numeric value of a price, limit or unit."""
        value = self.entry(name).value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name!r} is not a number in the pricing file: {value!r}")
        return float(value)

    def tiers(self, name: str) -> tuple[Tier, ...]:
        """The bands of a tiered price, in order, in GB."""
        gb_per_tb = self.number("TB")
        return tuple(
            Tier(None if t["tier_tb"] is None else t["tier_tb"] * gb_per_tb, float(t["usd_per_gb"]))
            for t in self.entry(name).value
        )

    def worker_dpu(self, worker_type: str) -> float:
        """DPUs of one Glue worker of this type."""
        table: dict[str, float] = self.entry("glue_worker_dpu").value
        if worker_type not in table:
            raise ValueError(f"unknown Glue worker type {worker_type!r}; known: {', '.join(sorted(table))}")
        return float(table[worker_type])


@functools.cache
def _document() -> dict[str, Any]:
    return json.loads(resources.files("comparison").joinpath("data/pricing.json").read_text(encoding="utf-8"))


def _entries(table: Mapping[str, Mapping[str, Any]]) -> dict[str, Price]:
    return {name: Price(name, e["value"], e["unit"], e["source"], e["as_of"], e["status"]) for name, e in table.items()}


@functools.cache
def pricing(region: str = "us-east-1") -> Pricing:
    """The prices of `region` from `comparison/data/pricing.json` (read once).

    Raises `UnknownRegionError` for a region the file has no prices for: prices are never guessed.
    """
    document = _document()
    regions = document["regions"]
    if region not in regions:
        raise UnknownRegionError(
            f"no prices for region {region!r} in comparison/data/pricing.json; known: {', '.join(sorted(regions))}"
        )
    return Pricing(
        region=region,
        prices=_entries(regions[region]["prices"]),
        limits=_entries(document["limits"]),
        units=_entries(document["units"]),
    )


def _ceil(x: float) -> int:
    return math.ceil(x - _CEIL_TOLERANCE)


def _round_up(size: float, increment: float) -> float:
    """`size` rounded up to a whole number of `increment`s."""
    return _ceil(size / increment) * increment


def glue_workers_for(events_per_s: float, measured_events_per_s_per_worker: float) -> int:
    """Glue workers an always-on streaming job needs for `events_per_s`, at the throughput one worker
    was measured to sustain; never fewer than the smallest streaming job has."""
    if events_per_s < 0 or measured_events_per_s_per_worker <= 0:
        raise ValueError("events_per_s must be >= 0 and the measured throughput per worker > 0")
    minimum = int(pricing().number("glue_streaming_min_workers"))
    return max(minimum, _ceil(events_per_s / measured_events_per_s_per_worker))


@dataclass(frozen=True, kw_only=True)
class Workload:
    """What both paths carry and how they are configured.

    Lambda, Firehose and Kinesis defaults are the SAM template's; Glue's are the smallest streaming
    job and Glue's default 100-second window. `lambda_ms_per_record` is measured by the harness (the
    handler's duration divided by its records); `glue_workers` comes from `glue_workers_for` and the
    measured throughput of a worker; `glue_objects_per_window` is the S3 objects one Glue micro-batch
    writes (default: one curated partition, one aggregates object, one manifest, one attempt marker),
    which a run can count.
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
    firehose_dynamic_partitioning: bool = False
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
                    not (self.firehose_dynamic_partitioning and self.delivery_interval_s == 0),
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


Number = float | int


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
        return max((p.status for p in self.prices), key=_STATUS_ORDER.index, default="confirmed")

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


def _prices_of(paths: Sequence[PathCost]) -> list[Price]:
    return list({p.name: p for path in paths for line in path.lines for p in line.prices}.values())


def _provenance(region: str, prices: Sequence[Price]) -> dict[str, Any]:
    return {
        "region": region,
        "currency": "USD",
        # The oldest date: the estimate is no more recent than its oldest price.
        "pricing_date": min(p.as_of for p in prices),
        "pricing_source": sorted({p.source for p in prices}),
        "pricing_status": {p.name: p.status for p in sorted(prices, key=lambda p: p.name)},
    }


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
            **_provenance(self.region, _prices_of(paths)),
            "workload": asdict(self.workload),
            "paths": {path.path: path.to_dict() for path in paths},
            "cheaper": self.cheaper,
            "notes": list(NOTES),
        }


def _fmt(value: Number | str) -> str:
    if isinstance(value, str):
        return value
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) < 0.01:
        return f"{value:.10f}".rstrip("0")
    return f"{value:,.6g}"


@dataclass(frozen=True)
class _Flows:
    """Monthly volumes both paths share."""

    seconds: float
    records: float
    bytes_in: float
    bytes_out: float
    kinesis_records: float
    kinesis_record_bytes: float


def _flows(w: Workload) -> _Flows:
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
    return _Flows(
        seconds,
        records,
        records * w.record_size_bytes,
        records * w.record_size_bytes * w.output_size_ratio,
        records / k,
        kinesis_record_bytes,
    )


def _kinesis_line(w: Workload, p: Pricing, f: _Flows) -> CostLine:
    gb = p.number("GB")
    if w.kinesis_mode == "provisioned":
        by_bytes = w.events_per_s * w.record_size_bytes / p.number("kds_shard_write_bytes_per_s")
        by_records = w.events_per_s / w.records_per_kinesis_record / p.number("kds_shard_write_records_per_s")
        shards = max(1, _ceil(max(by_bytes, by_records)))
        units_per_record = _ceil(f.kinesis_record_bytes / p.number("kds_put_payload_unit_bytes"))
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
    billed_record = _round_up(f.kinesis_record_bytes, p.number("kds_on_demand_in_increment"))
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


def tiered_usd(quantity: float, tiers: Sequence[Tier]) -> tuple[float, tuple[tuple[float, float], ...]]:
    """The cost of `quantity` under `tiers`, and the (quantity, price) billed in each band used."""
    remaining = quantity
    bands: list[tuple[float, float]] = []
    for tier in tiers:
        if remaining <= 0:
            break
        in_band = remaining if tier.tier_gb is None else min(remaining, tier.tier_gb)
        bands.append((in_band, tier.usd_per_gb))
        remaining -= in_band
    return sum(q * usd for q, usd in bands), tuple(bands)


def firehose_billed_bytes(record_size_bytes: int, region: str = "us-east-1") -> int:
    """The bytes Firehose bills one record as: its size rounded up to the next 5 KB."""
    return int(_round_up(record_size_bytes, pricing(region).number("firehose_ingestion_increment")))


def _firehose_ingestion_line(w: Workload, p: Pricing, f: _Flows) -> CostLine:
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


def _firehose_batches(w: Workload, p: Pricing, f: _Flows) -> tuple[float, float]:
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


def _lambda_lines(w: Workload, p: Pricing, f: _Flows, invocations: float) -> tuple[CostLine, CostLine]:
    records_per_invocation = f.records / invocations
    granularity = p.number("lambda_duration_granularity_ms")
    billed_ms = _round_up(records_per_invocation * w.lambda_ms_per_record, granularity)
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


def _dynamic_partitioning_line(p: Pricing, f: _Flows, objects: float) -> CostLine:
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


def _glue_line(w: Workload, p: Pricing) -> CostLine:
    dpu = p.worker_dpu(w.glue_worker_type)
    billed_s = max(
        p.number("glue_billing_minimum_s"), _round_up(w.hours_per_month * 3600, p.number("glue_billing_increment_s"))
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


def _s3_lines(w: Workload, p: Pricing, f: _Flows, objects: float) -> tuple[CostLine, ...]:
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


def estimate(workload: Workload, region: str = "us-east-1") -> CostEstimate:
    """The monthly cost of both paths for `workload` at `region`'s list prices."""
    p = pricing(region)
    max_record = min(p.number("firehose_record_max_bytes"), p.number("kds_record_max_bytes"))
    if workload.record_size_bytes > max_record:
        raise ValueError(f"a record of {workload.record_size_bytes} bytes exceeds the {max_record:,.0f}-byte maximum")
    f = _flows(workload)
    kinesis = _kinesis_line(workload, p, f)
    invocations, firehose_objects = _firehose_batches(workload, p, f)
    firehose_lines = [kinesis, _firehose_ingestion_line(workload, p, f)]
    if workload.firehose_dynamic_partitioning:
        firehose_lines.append(_dynamic_partitioning_line(p, f, firehose_objects))
    firehose_lines += [*_lambda_lines(workload, p, f, invocations), *_s3_lines(workload, p, f, firehose_objects)]
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
    f = _flows(workload)
    glue_objects = f.seconds / workload.glue_window_s * workload.glue_objects_per_window
    return PathCost(
        "kinesis_glue",
        (_kinesis_line(workload, p, f), _glue_line(workload, p), *_s3_lines(workload, p, f, glue_objects)),
    )


def flink_estimate(workload: Workload, kpus: int, region: str = "us-east-1") -> PathCost:
    """Amazon Managed Service for Apache Flink reading the same stream and writing S3 as the Glue job does:
    `kpus` KPUs plus the application's orchestration KPU, always on, and 50 GB of running storage per KPU.
    Modelled from the pricing page, never run here."""
    if kpus < 1:
        raise ValueError(f"a Flink application needs at least 1 KPU, not {kpus}")
    p = pricing(region)
    f = _flows(workload)
    extra = p.number("flink_orchestration_kpu")
    usd_kpu_hour = p.number("flink_kpu_hour")
    storage_gb = kpus * p.number("flink_storage_gb_per_kpu")
    usd_gb_month = p.number("flink_running_storage_gb_month")
    compute = CostLine(
        "flink_kpu",
        (kpus + extra) * workload.hours_per_month * usd_kpu_hour,
        "({kpus} KPU + {orchestration_kpu} orchestration KPU) x {hours} h (always on) x ${usd_per_kpu_hour}",
        {"kpus": kpus, "orchestration_kpu": extra, "hours": workload.hours_per_month, "usd_per_kpu_hour": usd_kpu_hour},
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
    objects = f.seconds / workload.glue_window_s * workload.glue_objects_per_window
    return PathCost(
        "managed_flink", (_kinesis_line(workload, p, f), compute, storage, *_s3_lines(workload, p, f, objects))
    )


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
