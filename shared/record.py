"""The contract as a per-record Python function: what the Firehose Lambda runs for each record.

`curate(data, arrival_ms)` validates one raw Kinesis record and returns an `Outcome`. It never raises for
bad input: every failure is a reason code from `shared.contract`. The hot path parses with orjson;
documents orjson refuses are re-read with the standard library so that the verdict follows the contract
(strict RFC 8259), not one parser's limits.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from shared import contract as c

MS_PER_DAY = 86_400_000
_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class Outcome(NamedTuple):
    """The verdict on one record: status is ok, dropped or failed (see `shared.contract`)."""

    status: str
    record: dict[str, Any] | None
    reason: str | None = None
    field: str | None = None


class _Reject(Exception):
    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


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
    except UnicodeEncodeError:
        raise _Reject(c.NOT_JSON) from None
    return doc


def parse_document(data: bytes) -> dict[str, Any]:
    """Parse one raw record into a JSON object, or raise `_Reject` with the document-level reason."""
    if len(data) > c.MAX_EVENT_BYTES:
        raise _Reject(c.TOO_LARGE)
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        doc = _parse_slow(data)
    if data.count(b"{") + data.count(b"[") > c.MAX_BRACKETS:
        raise _Reject(c.NOT_JSON)
    if type(doc) is not dict:
        raise _Reject(c.NOT_OBJECT)
    return doc


def _as_double(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    raise _Reject(c.WRONG_TYPE)


def _string_rule(field: c.Field) -> Callable[[Any], Any]:
    pattern = re.compile(field.pattern) if field.pattern else None
    low, high = field.min_length, field.max_length

    def check(value: Any) -> str:
        if type(value) is not str:
            raise _Reject(c.WRONG_TYPE)
        if not low <= len(value) <= high or (pattern is not None and pattern.fullmatch(value) is None):
            raise _Reject(c.INVALID_VALUE)
        return value

    return check


def _enum_rule(field: c.Field) -> Callable[[Any], Any]:
    allowed = frozenset(field.values)

    def check(value: Any) -> str:
        if type(value) is not str:
            raise _Reject(c.WRONG_TYPE)
        if value not in allowed:
            raise _Reject(c.INVALID_VALUE)
        return value

    return check


def _number_rule(field: c.Field) -> Callable[[Any], Any]:
    low = -math.inf if field.minimum is None else field.minimum
    high = math.inf if field.maximum is None else field.maximum

    def check(value: Any) -> float:
        number = _as_double(value)
        # NaN fails both comparisons; infinities fail the range or isfinite.
        if not (low <= number <= high and math.isfinite(number)):
            raise _Reject(c.OUT_OF_RANGE)
        return number

    return check


def _integer_rule(field: c.Field) -> Callable[[Any], Any]:
    number_check = _number_rule(field)

    def check(value: Any) -> int:
        number = number_check(value)
        if not number.is_integer():
            raise _Reject(c.INVALID_VALUE)
        return int(number)

    return check


_TIMESTAMP = re.compile(c.TIMESTAMP_PATTERN)


def days_in_month(year: int, month: int) -> int:
    """Days in a Gregorian month."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_timestamp_ms(text: str) -> int | None:
    """Epoch milliseconds of a contract timestamp, or None if it is not one (see TIMESTAMP_PATTERN)."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    fraction, zone = match.group(1), match.group(2)
    millis = int((fraction[1:] + "00")[:3]) if fraction else 0
    if zone == "Z":
        offset = 0
    else:
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            return None
        offset = (zone_hours * 60 + zone_minutes) * 60_000
        if zone[0] == "-":
            offset = -offset
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        return None
    if hour > 23 or minute > 59 or second > 59 or year == 0:
        return None
    days = date(year, month, day).toordinal() - _UNIX_EPOCH_ORDINAL
    return days * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offset


def _timestamp_rule(field: c.Field) -> Callable[[Any], Any]:
    def check(value: Any) -> int:
        if type(value) is not str:
            raise _Reject(c.WRONG_TYPE)
        millis = parse_timestamp_ms(value)
        if millis is None or millis < c.MIN_EVENT_TIME_MS:
            raise _Reject(c.BAD_TIMESTAMP)
        return millis

    return check


_RULES = {
    "string": _string_rule,
    "enum": _enum_rule,
    "number": _number_rule,
    "integer": _integer_rule,
    "timestamp": _timestamp_rule,
}
_EVENT_TYPE_CHECK = _enum_rule(c.EVENT_TYPE_FIELD)
_CHECKS = {
    event_type: tuple((f.name, f.required, _RULES[f.kind](f)) for f in c.COMMON_FIELDS + c.TYPE_FIELDS[event_type])
    for event_type in c.EVENT_TYPES
}
_TIME_FIELD = next(f.name for f in c.COMMON_FIELDS if f.kind == "timestamp")


def round_half_up(value: float, decimals: int) -> float:
    """The contract's rounding rule (see `shared.contract.DECIMALS`)."""
    scale = 10.0**decimals
    return math.floor(value * scale + 0.5) / scale


@lru_cache(maxsize=4096)
def utc_date(days: int) -> str:
    """ISO date (YYYY-MM-DD) of a day number counted from 1970-01-01."""
    return date.fromordinal(days + _UNIX_EPOCH_ORDINAL).isoformat()


def format_utc_ms(millis: int) -> str:
    """Epoch milliseconds as the curated event_time: 2026-11-28T16:35:46.123Z."""
    days, rest = divmod(millis, MS_PER_DAY)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1000)
    return f"{utc_date(days)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}Z"


def _build(event_type: str, values: dict[str, Any]) -> dict[str, Any]:
    millis = values["event_time"]
    days, rest = divmod(millis, MS_PER_DAY)
    record = {
        "event_id": values["event_id"],
        "device_id": values["device_id"],
        "event_type": event_type,
        "event_time": format_utc_ms(millis),
        "event_time_ms": millis,
        "event_date": utc_date(days),
        "event_hour": rest // 3_600_000,
        "sent_at_ms": values["sent_at_ms"],
        "temperature_c": None,
        "humidity_pct": None,
        "battery_pct": None,
        "firmware": None,
        "alert": None,
        "action": None,
    }
    if event_type == c.TELEMETRY:
        celsius = values["temperature_c"]
        record["temperature_c"] = round_half_up(celsius, c.DECIMALS["temperature_c"])
        record["humidity_pct"] = round_half_up(values["humidity"], c.DECIMALS["humidity_pct"])
        record["battery_pct"] = round_half_up(values["battery"], c.DECIMALS["battery_pct"])
        record["firmware"] = values["firmware"]
        record["alert"] = record["temperature_c"] >= c.ALERT_THRESHOLD_C
    elif event_type == c.MAINTENANCE:
        record["action"] = values["action"]
    return record


def curate_document(doc: dict[str, Any], arrival_ms: int) -> Outcome:
    """Apply the field rules to a parsed JSON object (see `curate`)."""
    event_type = doc.get("event_type")
    try:
        event_type = c.DEFAULT_EVENT_TYPE if event_type is None else _EVENT_TYPE_CHECK(event_type)
    except _Reject as reject:
        return Outcome(c.FAILED, None, reject.reason, "event_type")
    values: dict[str, Any] = {}
    for name, required, check in _CHECKS[event_type]:
        value = doc.get(name)
        if value is None:
            if required:
                return Outcome(c.FAILED, None, c.MISSING_FIELD, name)
            values[name] = None
            continue
        try:
            values[name] = check(value)
        except _Reject as reject:
            return Outcome(c.FAILED, None, reject.reason, name)
    if values[_TIME_FIELD] > arrival_ms + c.FUTURE_SKEW_MS:
        return Outcome(c.FAILED, None, c.FUTURE_TIMESTAMP, _TIME_FIELD)
    if event_type == c.TELEMETRY:
        celsius = values["temperature"]
        if values["temperature_unit"] == "F":
            celsius = c.fahrenheit_to_celsius(celsius)
        low, high = c.TEMPERATURE_RANGE_C
        if not low <= celsius <= high:
            return Outcome(c.FAILED, None, c.OUT_OF_RANGE, "temperature")
        values["temperature_c"] = celsius
    return Outcome(c.OUTCOME_BY_TYPE[event_type], _build(event_type, values))


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
