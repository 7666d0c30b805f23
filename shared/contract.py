"""The record contract both paths obey, defined once.

`shared.record` compiles this definition into a per-record Python function, which the Firehose Lambda calls
and the Glue job runs in a Python UDF (`glue_streaming.pipeline.curate`); `shared.spark_columns` compiles it
into native Spark Column expressions, the alternative `make bench` measures. Both read every rule, limit and
ordering from here; `tests/shared/test_differential.py` proves that they agree record for record.

A raw event is one Kinesis record: UTF-8 bytes holding one strict RFC 8259 JSON object. Validation runs
in a fixed order and reports the first failure only, as a `(reason, field)` pair:

1. the document: kpl_aggregate (it begins with the KPL aggregation magic bytes: an aggregate that the
   source could not unpack, see comparison/kpl.py), too_large, not_utf8, not_json (syntax, trailing data,
   lone surrogate escapes, more than MAX_BRACKETS bracket characters, NaN/Infinity literals), not_object;
2. `event_type` (optional, defaults to telemetry);
3. the common fields, then the fields of the event's type, each in the order listed below:
   missing_field (absent or null), wrong_type, then the field's value rule
   (invalid_value, out_of_range, bad_timestamp);
4. record rules: future_timestamp (event_time against the record's arrival), then the temperature
   range, checked in Celsius after unit conversion (out_of_range on `temperature`).

Numbers are IEEE-754 doubles: a literal beyond the double range is infinite, hence out_of_range.
Unknown extra fields are tolerated and not copied to the curated record.

This module must import on Python 3.10 with the standard library only (AWS Glue 4.0).
"""

from __future__ import annotations

from dataclasses import dataclass

CONTRACT_VERSION = 1

# Reason codes: stable strings, used in logs, metrics, quarantine records and reports.
KPL_AGGREGATE = "kpl_aggregate"
TOO_LARGE = "too_large"
NOT_UTF8 = "not_utf8"
NOT_JSON = "not_json"
NOT_OBJECT = "not_object"
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
INVALID_VALUE = "invalid_value"
OUT_OF_RANGE = "out_of_range"
BAD_TIMESTAMP = "bad_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
REASONS = (
    KPL_AGGREGATE,
    TOO_LARGE,
    NOT_UTF8,
    NOT_JSON,
    NOT_OBJECT,
    MISSING_FIELD,
    WRONG_TYPE,
    INVALID_VALUE,
    OUT_OF_RANGE,
    BAD_TIMESTAMP,
    FUTURE_TIMESTAMP,
)

# Reasons of the Firehose envelope rather than the record: the event's base64 is not canonical (Firehose
# sends canonical base64), its arrival time is not a number of milliseconds, or the Lambda's response
# would pass 6 MB. The Glue job reads bytes and arrival times from its source, so only path A gives them.
NOT_BASE64 = "not_base64"
BAD_ARRIVAL_TIME = "bad_arrival_time"
RESPONSE_TOO_LARGE = "response_too_large"
ENVELOPE_REASONS = (NOT_BASE64, BAD_ARRIVAL_TIME, RESPONSE_TOO_LARGE)
ALL_REASONS = REASONS + ENVELOPE_REASONS

# Outcomes of the per-record transform. They map onto Firehose's results (Ok, Dropped, ProcessingFailed)
# and onto the Glue job's sinks (curated or maintenance, dropped counter, quarantine).
OK = "ok"
DROPPED = "dropped"
FAILED = "failed"

# Limits of the document itself. A record may hold at most MAX_BRACKETS characters `{` and `[`,
# string contents included: a bound on nesting (a JSON bomb is rejected) that both engines check
# exactly and cheaply, unlike a depth limit, which parsers enforce differently (orjson at 1,024,
# Python's json by recursion, Jackson 2.15+ at 1,000, Spark 3.3's Jackson not at all).
MAX_EVENT_BYTES = 32 * 1024
# The first bytes of a Kinesis Producer Library aggregate. They are not valid UTF-8, so no JSON record
# begins with them: a record that does is an aggregate a consumer did not (or could not) unpack.
KPL_MAGIC = b"\xf3\x89\x9a\xc2"
MAX_BRACKETS = 64

# Event time must lie in [MIN_EVENT_TIME_MS, arrival + FUTURE_SKEW_MS]. Earlier than 2000 means a device
# clock that was never set; later than the skew means a clock running ahead. "Arrival" is the Kinesis
# ApproximateArrivalTimestamp, so a replayed record gets the same verdict as the first time.
MIN_EVENT_TIME_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
FUTURE_SKEW_MS = 5 * 60 * 1000

# Timestamps: YYYY-MM-DDTHH:MM:SS, optional fraction of 1-9 digits (truncated to milliseconds),
# then Z or +HH:MM / -HH:MM. Each engine anchors this pattern in its own dialect.
TIMESTAMP_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"

TELEMETRY = "telemetry"
MAINTENANCE = "maintenance"
HEARTBEAT = "heartbeat"
EVENT_TYPES = (TELEMETRY, MAINTENANCE, HEARTBEAT)
DEFAULT_EVENT_TYPE = TELEMETRY
# Heartbeats are liveness pings with no measurement: valid ones are dropped by design in both paths.
OUTCOME_BY_TYPE = {TELEMETRY: OK, MAINTENANCE: OK, HEARTBEAT: DROPPED}

TEMPERATURE_RANGE_C = (-60.0, 100.0)
ALERT_THRESHOLD_C = 45.0
MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True)
class Field:
    """One raw field and its rule.

    kind is one of: string (length in code points, optional full-match pattern), enum (a string from
    `values`), number (finite double within [minimum, maximum] when given), integer (a number within
    [minimum, maximum] with an integral value), timestamp (TIMESTAMP_PATTERN, a real calendar instant).
    """

    name: str
    kind: str
    required: bool = True
    min_length: int = 1
    max_length: int = 0
    pattern: str | None = None
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


EVENT_TYPE_FIELD = Field("event_type", "enum", required=False, values=EVENT_TYPES)

COMMON_FIELDS = (
    Field("event_id", "string", max_length=128),
    Field("device_id", "string", max_length=64, pattern=r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}"),
    Field("event_time", "timestamp"),
    # The producer's send time (epoch ms). Optional: real devices do not send it; the workload
    # generator does, so that latency can be measured end to end.
    Field("sent_at_ms", "integer", required=False, minimum=0, maximum=MAX_SAFE_INTEGER),
)

TYPE_FIELDS = {
    TELEMETRY: (
        Field("temperature", "number"),
        Field("temperature_unit", "enum", values=("C", "F")),
        Field("humidity", "number", minimum=0.0, maximum=100.0),
        Field("battery", "number", minimum=0.0, maximum=100.0),
        Field("firmware", "string", max_length=32),
    ),
    MAINTENANCE: (Field("action", "string", max_length=64),),
    HEARTBEAT: (),
}

RAW_FIELD_NAMES = tuple(
    dict.fromkeys(
        [EVENT_TYPE_FIELD.name]
        + [f.name for f in COMMON_FIELDS]
        + [f.name for fields in TYPE_FIELDS.values() for f in fields]
    )
)

# Rounding: half up at the given number of decimals, computed as floor(x * 10**d + 0.5) / 10**d in
# IEEE-754 doubles. Both engines run exactly these operations, so they agree bit for bit (Spark's
# round() and Python's round() disagree on ties such as 2.675).
DECIMALS = {"temperature_c": 2, "humidity_pct": 1, "battery_pct": 1}


def fahrenheit_to_celsius(value: float) -> float:
    """The conversion both engines use, with this exact order of double operations."""
    return (value - 32.0) * 5.0 / 9.0


# The curated record: name and type of each output field, in output order. Type-specific fields are
# null for other event types. Types use Spark's simple-string names.
CURATED_FIELDS = (
    ("event_id", "string"),
    ("device_id", "string"),
    ("event_type", "string"),
    ("event_time", "string"),  # UTC, millisecond precision: 2026-11-28T16:35:46.123Z
    ("event_time_ms", "bigint"),
    ("event_date", "string"),  # UTC date of event_time: partition key
    ("event_hour", "int"),  # UTC hour of event_time: partition key
    ("sent_at_ms", "bigint"),
    ("temperature_c", "double"),
    ("humidity_pct", "double"),
    ("battery_pct", "double"),
    ("firmware", "string"),
    ("alert", "boolean"),  # temperature_c >= ALERT_THRESHOLD_C
    ("action", "string"),
)
CURATED_FIELD_NAMES = tuple(name for name, _ in CURATED_FIELDS)

# Enrichment with the device registry: added by both paths after the contract (Lambda: an in-memory
# lookup; Glue: the same lookup in its contract UDF). Unknown devices are kept, with known_device false.
ENRICHED_FIELDS = (
    ("site", "string"),
    ("region", "string"),
    ("model", "string"),
    ("known_device", "boolean"),
    ("device_alert", "boolean"),  # temperature_c >= the device's own threshold (null if unknown)
)
ENRICHED_FIELD_NAMES = tuple(name for name, _ in ENRICHED_FIELDS)
REGISTRY_FIELDS = (
    ("device_id", "string"),
    ("site", "string"),
    ("region", "string"),
    ("model", "string"),
    ("alert_threshold_c", "double"),
)
