"""The contract as a per-record Python function: what the Firehose Lambda runs for each record.

`curate(data, arrival_ms)` validates one raw Kinesis record and returns an `Outcome`. It never raises
for bad input: every failure is a reason code from `shared.contract`.

Speed matters here (every record of every batch), so the field rules of `shared.contract` are
compiled, at import, into one plain Python function per event type: the same rules in the same
order, with no per-field calls (`_compile`; `SOURCES` keeps the generated code for reading). The hot
path parses with orjson; documents orjson refuses are re-read with the standard library, so that
the verdict follows the contract (strict RFC 8259), not one parser's limits. Where orjson is not
installed (an AWS Glue job, which runs this module in its Python UDF: `glue_streaming.pipeline.curate`),
every document takes the standard library's path, which gives the same verdicts, more slowly.

Python 3.10 compatible (the package also ships to AWS Glue 4.0).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

try:
    import orjson
except ImportError:  # AWS Glue has no orjson unless a job installs it: the standard library decides alone.
    orjson = None

from shared import contract as c

MS_PER_DAY = 86_400_000
_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CACHE_LIMIT = 100_000


class Outcome(NamedTuple):
    """The verdict on one record: status is ok, dropped or failed (see `shared.contract`)."""

    status: str
    record: dict[str, Any] | None
    reason: str | None = None
    field: str | None = None


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_int(text: str) -> int | float:
    # Python refuses to convert integers of more than 4,300 digits; a double is what the contract
    # means anyway, and float() of a huge literal is infinity, as in Spark.
    return int(text) if len(text) < 300 else float(text)


def _parse_slow(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Reject(c.NOT_UTF8) from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except (ValueError, RecursionError):
        raise _Reject(c.NOT_JSON) from None
    try:
        # A lone surrogate escape (\ud800) is valid JSON syntax but not Unicode: it cannot be encoded.
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise _Reject(c.NOT_JSON) from None
    return doc


def parse_document(data: bytes) -> dict[str, Any]:
    """Parse one raw record into a JSON object, or raise `_Reject` with the document-level reason."""
    if data[: len(c.KPL_MAGIC)] == c.KPL_MAGIC:
        raise _Reject(c.KPL_AGGREGATE)
    if len(data) > c.MAX_EVENT_BYTES:
        raise _Reject(c.TOO_LARGE)
    if orjson is None:
        doc = _parse_slow(data)
    else:
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            doc = _parse_slow(data)
    if data.count(b"{") + data.count(b"[") > c.MAX_BRACKETS:
        raise _Reject(c.NOT_JSON)
    if type(doc) is not dict:
        raise _Reject(c.NOT_OBJECT)
    return doc


def days_in_month(year: int, month: int) -> int:
    """Days in a Gregorian month."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


# A contract timestamp is a prefix (date and hour), minutes and seconds, and a tail (fraction and
# zone). Prefixes and tails repeat across records, so each is validated once and cached.
_PREFIX = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}")
_TAIL = re.compile(r"(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})")
_TWO_DIGITS = {f"{n:02d}": n for n in range(100)}
_prefix_ms: dict[str, int | None] = {}
_tail_ms: dict[str, int | None] = {}
if _PREFIX.pattern + ":[0-9]{2}:[0-9]{2}" + _TAIL.pattern != c.TIMESTAMP_PATTERN:
    raise RuntimeError("parse_timestamp_ms must be brought in line with contract.TIMESTAMP_PATTERN")


def _prefix_to_ms(prefix: str) -> int | None:
    if _PREFIX.fullmatch(prefix) is None:
        return None
    year, month, day, hour = int(prefix[0:4]), int(prefix[5:7]), int(prefix[8:10]), int(prefix[11:13])
    if year == 0 or not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month) or hour > 23:
        return None
    return (date(year, month, day).toordinal() - _UNIX_EPOCH_ORDINAL) * MS_PER_DAY + hour * 3_600_000


def _tail_to_ms(tail: str) -> int | None:
    """Milliseconds of the fraction (truncated) minus the zone offset, or None if not a tail."""
    match = _TAIL.fullmatch(tail)
    if match is None:
        return None
    fraction, zone = match.group(1), match.group(2)
    millis = int((fraction[1:] + "00")[:3]) if fraction else 0
    if zone == "Z":
        return millis
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 23 or minutes > 59:
        return None
    offset = (hours * 60 + minutes) * 60_000
    return millis + offset if zone[0] == "-" else millis - offset


def parse_timestamp_ms(text: str) -> int | None:
    """Epoch milliseconds of a contract timestamp, or None if it is not one (see TIMESTAMP_PATTERN)."""
    if len(text) < 20 or text[13] != ":" or text[16] != ":":
        return None
    prefix, tail = text[:13], text[19:]
    base = _prefix_ms.get(prefix, -1)
    if base == -1:
        if len(_prefix_ms) > _CACHE_LIMIT:
            _prefix_ms.clear()
        base = _prefix_ms[prefix] = _prefix_to_ms(prefix)
    shift = _tail_ms.get(tail, -1)
    if shift == -1:
        if len(_tail_ms) > _CACHE_LIMIT:
            _tail_ms.clear()
        shift = _tail_ms[tail] = _tail_to_ms(tail)
    minute, second = _TWO_DIGITS.get(text[14:16]), _TWO_DIGITS.get(text[17:19])
    if base is None or shift is None or minute is None or second is None or minute > 59 or second > 59:
        return None
    return base + minute * 60_000 + second * 1000 + shift


def round_half_up(value: float, decimals: int) -> float:
    """The contract's rounding rule (see `shared.contract.DECIMALS`)."""
    scale = 10.0**decimals
    return math.floor(value * scale + 0.5) / scale


@lru_cache(maxsize=4096)
def utc_date(days: int) -> str:
    """ISO date (YYYY-MM-DD) of a day number counted from 1970-01-01."""
    return date.fromordinal(days + _UNIX_EPOCH_ORDINAL).isoformat()


_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]


def format_utc_ms(millis: int) -> str:
    """Epoch milliseconds as the curated event_time: 2026-11-28T16:35:46.123Z."""
    days, rest = divmod(millis, MS_PER_DAY)
    seconds, ms = divmod(rest, 1000)
    return f"{utc_date(days)}T{_CLOCK[seconds]}.{ms:03d}Z"


def int_to_double(value: int) -> float:
    """An integer as the IEEE-754 double the contract means (infinite beyond the double range)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _compile(event_type: str) -> tuple[Callable[[dict[str, Any], int], Outcome], str]:
    """Generate the validator of one event type from `shared.contract`; return it and its source.

    The generated function applies each field's rule in contract order, then the record rules, and
    builds the curated record; each failure returns a prebuilt Outcome naming the reason and field.
    """
    fields = (*c.COMMON_FIELDS, *c.TYPE_FIELDS[event_type])
    env: dict[str, Any] = {
        "Outcome": Outcome,
        "OK": c.OUTCOME_BY_TYPE[event_type],
        "parse_timestamp_ms": parse_timestamp_ms,
        "int_to_double": int_to_double,
        "format_utc_ms": format_utc_ms,
        "utc_date": utc_date,
        "floor": math.floor,
        "inf": math.inf,
        "str": str,
        "int": int,
        "float": float,
    }
    lines = [f"def curate_{event_type}(doc, arrival_ms):", "    get = doc.get"]

    def fail(reason: str, field: str) -> str:
        name = f"F_{reason}_{field}"
        env[name] = Outcome(c.FAILED, None, reason, field)
        return f"return {name}"

    for i, f in enumerate(fields):
        v = f"v{i}"
        lines.append(f"    {v} = get({f.name!r})")
        lines.append(f"    if {v} is None:")
        lines.append(f"        {fail(c.MISSING_FIELD, f.name)}" if f.required else "        pass")
        lines.append("    else:")
        body = []
        if f.kind in ("string", "enum"):
            body.append(f"if {v}.__class__ is not str: {fail(c.WRONG_TYPE, f.name)}")
            if f.kind == "enum":
                env[f"E_{f.name}"] = frozenset(f.values)
                body.append(f"if {v} not in E_{f.name}: {fail(c.INVALID_VALUE, f.name)}")
            else:
                body.append(f"if not {f.min_length} <= len({v}) <= {f.max_length}: {fail(c.INVALID_VALUE, f.name)}")
                if f.pattern:
                    env[f"P_{f.name}"] = re.compile(f.pattern).fullmatch
                    body.append(f"if P_{f.name}({v}) is None: {fail(c.INVALID_VALUE, f.name)}")
        elif f.kind in ("number", "integer"):
            # Exact int comparisons equal double ones here: every bound is an exactly representable double.
            low = -math.inf if f.minimum is None else f.minimum
            high = math.inf if f.maximum is None else f.maximum
            env[f"LO_{f.name}"], env[f"HI_{f.name}"] = low, high
            in_range = f"LO_{f.name} <= {v} <= HI_{f.name}"
            body.append(f"cls = {v}.__class__")
            body.append("if cls is float:")
            body.append(f"    if not ({in_range}) or {v} in (inf, -inf): {fail(c.OUT_OF_RANGE, f.name)}")
            if f.kind == "integer":
                body.append(f"    if not {v}.is_integer(): {fail(c.INVALID_VALUE, f.name)}")
                body.append(f"    {v} = int({v})")
            body.append("elif cls is int:")
            if f.kind == "number":
                body.append(f"    {v} = int_to_double({v})")
            body.append(f"    if not ({in_range}) or {v} in (inf, -inf): {fail(c.OUT_OF_RANGE, f.name)}")
            body.append(f"else: {fail(c.WRONG_TYPE, f.name)}")
        elif f.kind == "timestamp":
            body.append(f"if {v}.__class__ is not str: {fail(c.WRONG_TYPE, f.name)}")
            body.append(f"{v} = parse_timestamp_ms({v})")
            body.append(f"if {v} is None or {v} < {c.MIN_EVENT_TIME_MS}: {fail(c.BAD_TIMESTAMP, f.name)}")
        else:
            raise ValueError(f"unknown field kind {f.kind!r}")
        lines += ["        " + line for line in body]

    names = {f.name: f"v{i}" for i, f in enumerate(fields)}
    time = next(f.name for f in c.COMMON_FIELDS if f.kind == "timestamp")
    ms = names[time]
    lines.append(f"    if {ms} > arrival_ms + {c.FUTURE_SKEW_MS}: {fail(c.FUTURE_TIMESTAMP, time)}")
    record = {
        "event_id": names["event_id"],
        "device_id": names["device_id"],
        "event_type": repr(event_type),
        "event_time": f"format_utc_ms({ms})",
        "event_time_ms": ms,
        "event_date": f"utc_date({ms} // {MS_PER_DAY})",
        "event_hour": f"{ms} % {MS_PER_DAY} // 3600000",
        "sent_at_ms": names["sent_at_ms"],
    }
    values = {"temperature_c": "None", "humidity_pct": "None", "battery_pct": "None", "firmware": "None"}
    values |= {"alert": "None", "action": "None"}
    if event_type == c.TELEMETRY:
        low, high = c.TEMPERATURE_RANGE_C
        unit, temperature = names["temperature_unit"], names["temperature"]
        lines.append(f"    celsius = ({temperature} - 32.0) * 5.0 / 9.0 if {unit} == 'F' else {temperature}")
        lines.append(f"    if not {low!r} <= celsius <= {high!r}: {fail(c.OUT_OF_RANGE, 'temperature')}")

        def rounded(expression: str, decimals: int) -> str:
            scale = 10.0**decimals
            return f"floor({expression} * {scale!r} + 0.5) / {scale!r}"

        lines.append(f"    temperature_c = {rounded('celsius', c.DECIMALS['temperature_c'])}")
        values["temperature_c"] = "temperature_c"
        values["humidity_pct"] = rounded(names["humidity"], c.DECIMALS["humidity_pct"])
        values["battery_pct"] = rounded(names["battery"], c.DECIMALS["battery_pct"])
        values["firmware"] = names["firmware"]
        values["alert"] = f"temperature_c >= {c.ALERT_THRESHOLD_C!r}"
    elif event_type == c.MAINTENANCE:
        values["action"] = names["action"]
    record |= values
    if tuple(record) != c.CURATED_FIELD_NAMES:
        raise RuntimeError("the compiled record must list contract.CURATED_FIELDS in order")
    lines.append("    return Outcome(OK, {" + ", ".join(f"{k!r}: {e}" for k, e in record.items()) + "})")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<contract {event_type}>", "exec"), env)
    return env[f"curate_{event_type}"], source


_COMPILED = {event_type: _compile(event_type) for event_type in c.EVENT_TYPES}
SOURCES = {event_type: source for event_type, (_, source) in _COMPILED.items()}
_CURATE_BY_TYPE = {event_type: function for event_type, (function, _) in _COMPILED.items()}
_WRONG_EVENT_TYPE = Outcome(c.FAILED, None, c.WRONG_TYPE, c.EVENT_TYPE_FIELD.name)
_BAD_EVENT_TYPE = Outcome(c.FAILED, None, c.INVALID_VALUE, c.EVENT_TYPE_FIELD.name)


def curate_document(doc: dict[str, Any], arrival_ms: int) -> Outcome:
    """Apply the field and record rules to a parsed JSON object (see `curate`)."""
    event_type = doc.get("event_type")
    if event_type is None:
        return _CURATE_BY_TYPE[c.DEFAULT_EVENT_TYPE](doc, arrival_ms)
    if event_type.__class__ is not str:
        return _WRONG_EVENT_TYPE
    function = _CURATE_BY_TYPE.get(event_type)
    return _BAD_EVENT_TYPE if function is None else function(doc, arrival_ms)


def curate(data: bytes, arrival_ms: int) -> Outcome:
    """Validate and normalise one raw record.

    `arrival_ms` is the record's Kinesis ApproximateArrivalTimestamp in epoch milliseconds: the
    reference for the future-timestamp rule, so that a replay gives the same verdict.
    """
    try:
        doc = parse_document(data)
    except _Reject as reject:
        return Outcome(c.FAILED, None, reject.reason, None)
    return curate_document(doc, arrival_ms)
