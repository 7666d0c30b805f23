"""Hand-written contract cases with their expected verdicts, run through both engines.

Each case is (id, raw bytes, arrival_ms, status, reason, field). The differential test explores far
more inputs; these pin down the decisions the contract documents, so a regression names itself.
"""

from __future__ import annotations

import json

ARRIVAL = 1_764_347_746_000  # 2025-11-28T16:35:46Z

GOOD = {
    "event_id": "e-1",
    "device_id": "dev-0001",
    "event_time": "2025-11-28T16:30:00.123Z",
    "temperature": 21.5,
    "temperature_unit": "C",
    "humidity": 40.04,
    "battery": 88.25,
    "firmware": "1.4.2",
    "sent_at_ms": ARRIVAL - 5,
}


def doc(**changes) -> bytes:
    """GOOD with fields replaced (value None keeps JSON null) or removed (value ...)."""
    body = dict(GOOD)
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body).encode()


def raw(text: str) -> bytes:
    return text.encode()


CASES = [
    ("valid telemetry", doc(), ARRIVAL, "ok", None, None),
    ("valid fahrenheit", doc(temperature=70.5, temperature_unit="F"), ARRIVAL, "ok", None, None),
    (
        "valid with extra fields",
        doc(extra={"nested": [1, 2, {"x": None}]}, note="héllo ✓"),
        ARRIVAL,
        "ok",
        None,
        None,
    ),
    (
        "valid maintenance",
        raw(
            '{"event_type":"maintenance","event_id":"m1","device_id":"d1",'
            '"event_time":"2025-11-28T10:00:00+09:00","action":"calibration"}'
        ),
        ARRIVAL,
        "ok",
        None,
        None,
    ),
    (
        "heartbeat dropped",
        raw('{"event_type":"heartbeat","event_id":"h1","device_id":"d1","event_time":"2025-11-28T16:00:00Z"}'),
        ARRIVAL,
        "dropped",
        None,
        None,
    ),
    ("too large", doc(pad="x" * 40_000), ARRIVAL, "failed", "too_large", None),
    # An aggregate the source could not unpack, whatever follows the magic bytes and however large.
    ("kpl magic only", b"\xf3\x89\x9a\xc2", ARRIVAL, "failed", "kpl_aggregate", None),
    ("kpl magic before json", b"\xf3\x89\x9a\xc2" + doc(), ARRIVAL, "failed", "kpl_aggregate", None),
    ("kpl aggregate too large", b"\xf3\x89\x9a\xc2" + b"\x00" * 40_000, ARRIVAL, "failed", "kpl_aggregate", None),
    ("kpl magic cut short", b"\xf3\x89\x9a", ARRIVAL, "failed", "not_utf8", None),
    ("invalid utf-8", b'{"event_id":"\xff"}', ARRIVAL, "failed", "not_utf8", None),
    ("utf-8 encoded surrogate", b'{"event_id":"\xed\xa0\x80"}', ARRIVAL, "failed", "not_utf8", None),
    ("byte order mark", b"\xef\xbb\xbf" + doc(), ARRIVAL, "failed", "not_json", None),
    ("empty", b"", ARRIVAL, "failed", "not_json", None),
    ("whitespace only", b" \n\t", ARRIVAL, "failed", "not_json", None),
    ("truncated", doc()[:-3], ARRIVAL, "failed", "not_json", None),
    ("trailing garbage", doc() + b" x", ARRIVAL, "failed", "not_json", None),
    ("two objects", doc() + doc(), ARRIVAL, "failed", "not_json", None),
    ("extra closing brace", doc() + b"}", ARRIVAL, "failed", "not_json", None),
    ("trailing whitespace is fine", doc() + b" \r\n", ARRIVAL, "ok", None, None),
    ("NaN literal", raw('{"temperature": NaN}'), ARRIVAL, "failed", "not_json", None),
    ("single quotes", raw("{'event_id': 'x'}"), ARRIVAL, "failed", "not_json", None),
    ("leading zero", raw('{"temperature": 021}'), ARRIVAL, "failed", "not_json", None),
    ("raw control char", raw('{"event_id": "a\tb"}'), ARRIVAL, "failed", "not_json", None),
    ("lone surrogate escape", raw('{"x": "\\ud800"}'), ARRIVAL, "failed", "not_json", None),
    ("escaped backslash then u", doc(event_id="\\ud800"), ARRIVAL, "ok", None, None),
    (
        "surrogate pair is fine",
        raw(doc().decode().replace('"e-1"', '"\\ud83d\\ude00"')),
        ARRIVAL,
        "ok",
        None,
        None,
    ),
    ("too many brackets", raw('{"x":' + "[" * 64 + "]" * 64 + "}"), ARRIVAL, "failed", "not_json", None),
    ("64 brackets are fine", raw(doc().decode()[:-1] + ',"x":' + "[" * 63 + "]" * 63 + "}"), ARRIVAL, "ok", None, None),
    ("brackets in strings count", doc(note="{" * 64), ARRIVAL, "failed", "not_json", None),
    ("nested objects are fine", doc(extra={"a": {"b": {"c": [1, {"d": None}]}}}), ARRIVAL, "ok", None, None),
    ("pretty-printed", raw(json.dumps(json.loads(doc()), indent=2)), ARRIVAL, "ok", None, None),
    ("string ending with a colon", doc(firmware="v1:"), ARRIVAL, "ok", None, None),
    ("key ending with a colon", raw(doc().decode()[:-1] + ',"odd:":"x:"}'), ARRIVAL, "ok", None, None),
    ("leading whitespace", b" \n" + doc(), ARRIVAL, "ok", None, None),
    ("closing bracket in a string", doc(note="a]b"), ARRIVAL, "ok", None, None),
    ("sentinel-looking string", raw(doc().decode()[:-1] + ',"x":"#"}'), ARRIVAL, "ok", None, None),
    ("wrapper spoof", raw(doc().decode() + '],["x"'), ARRIVAL, "failed", "not_json", None),
    ("sentinel spoof", raw(doc().decode() + ',"#"],[5'), ARRIVAL, "failed", "not_json", None),
    ("array root", raw("[1, 2]"), ARRIVAL, "failed", "not_object", None),
    ("string root", raw('"hello"'), ARRIVAL, "failed", "not_object", None),
    ("null root", raw("null"), ARRIVAL, "failed", "not_object", None),
    ("unknown event type", doc(event_type="alarm"), ARRIVAL, "failed", "invalid_value", "event_type"),
    ("event type not a string", doc(event_type=3), ARRIVAL, "failed", "wrong_type", "event_type"),
    ("missing event_id", doc(event_id=...), ARRIVAL, "failed", "missing_field", "event_id"),
    ("null device_id", doc(device_id=None), ARRIVAL, "failed", "missing_field", "device_id"),
    ("event_id number", doc(event_id=12), ARRIVAL, "failed", "wrong_type", "event_id"),
    ("empty event_id", doc(event_id=""), ARRIVAL, "failed", "invalid_value", "event_id"),
    ("device_id with space", doc(device_id="dev 1"), ARRIVAL, "failed", "invalid_value", "device_id"),
    (
        "device_id with trailing newline",
        doc(device_id="dev1\n"),
        ARRIVAL,
        "failed",
        "invalid_value",
        "device_id",
    ),
    ("temperature as string", doc(temperature="21.5"), ARRIVAL, "failed", "wrong_type", "temperature"),
    ("temperature as bool", doc(temperature=True), ARRIVAL, "failed", "wrong_type", "temperature"),
    (
        "temperature overflows double",
        raw(doc().decode().replace("21.5", "1e400")),
        ARRIVAL,
        "failed",
        "out_of_range",
        "temperature",
    ),
    ("temperature too hot", doc(temperature=100.01), ARRIVAL, "failed", "out_of_range", "temperature"),
    ("temperature limit", doc(temperature=100), ARRIVAL, "ok", None, None),
    (
        "fahrenheit too cold",
        doc(temperature=-80, temperature_unit="F"),
        ARRIVAL,
        "failed",
        "out_of_range",
        "temperature",
    ),
    ("bad unit", doc(temperature_unit="K"), ARRIVAL, "failed", "invalid_value", "temperature_unit"),
    ("humidity above 100", doc(humidity=100.5), ARRIVAL, "failed", "out_of_range", "humidity"),
    ("battery negative", doc(battery=-1), ARRIVAL, "failed", "out_of_range", "battery"),
    ("firmware too long", doc(firmware="v" * 33), ARRIVAL, "failed", "invalid_value", "firmware"),
    ("sent_at fractional", doc(sent_at_ms=1.5), ARRIVAL, "failed", "invalid_value", "sent_at_ms"),
    ("sent_at negative", doc(sent_at_ms=-1), ARRIVAL, "failed", "out_of_range", "sent_at_ms"),
    ("sent_at absent is fine", doc(sent_at_ms=...), ARRIVAL, "ok", None, None),
    (
        "timestamp without zone",
        doc(event_time="2025-11-28T16:30:00"),
        ARRIVAL,
        "failed",
        "bad_timestamp",
        "event_time",
    ),
    (
        "timestamp with newline",
        doc(event_time="2025-11-28T16:30:00Z\n"),
        ARRIVAL,
        "failed",
        "bad_timestamp",
        "event_time",
    ),
    (
        "timestamp 29 Feb of a common year",
        doc(event_time="2025-02-29T00:00:00Z"),
        ARRIVAL,
        "failed",
        "bad_timestamp",
        "event_time",
    ),
    ("timestamp 29 Feb of a leap year", doc(event_time="2024-02-29T00:00:00Z"), ARRIVAL, "ok", None, None),
    (
        "timestamp leap second",
        doc(event_time="2025-06-30T23:59:60Z"),
        ARRIVAL,
        "failed",
        "bad_timestamp",
        "event_time",
    ),
    (
        "timestamp offset 24h",
        doc(event_time="2025-11-28T10:00:00+24:00"),
        ARRIVAL,
        "failed",
        "bad_timestamp",
        "event_time",
    ),
    (
        "timestamp before 2000",
        doc(event_time="1999-12-31T23:59:59.999Z"),
        ARRIVAL,
        "failed",
        "bad_timestamp",
        "event_time",
    ),
    (
        "timestamp nine fraction digits",
        doc(event_time="2025-11-28T16:30:00.123456789-05:30"),
        ARRIVAL + 40_000_000,
        "ok",
        None,
        None,
    ),
    (
        "timestamp in the future",
        doc(event_time="2025-11-28T16:41:00Z"),
        ARRIVAL,
        "failed",
        "future_timestamp",
        "event_time",
    ),
    ("timestamp at the skew limit", doc(event_time="2025-11-28T16:40:46.000Z"), ARRIVAL, "ok", None, None),
    (
        "first failure wins",
        doc(event_id=..., temperature="x"),
        ARRIVAL,
        "failed",
        "missing_field",
        "event_id",
    ),
    (
        "field rules before record rules",
        doc(temperature=500, humidity="x"),
        ARRIVAL,
        "failed",
        "wrong_type",
        "humidity",
    ),
    (
        "duplicate keys: last wins",
        raw(doc().decode()[:-1] + ', "temperature": "x"}'),
        ARRIVAL,
        "failed",
        "wrong_type",
        "temperature",
    ),
]

# Curated output of selected valid cases, field by field.
EXPECTED_RECORDS = {
    "valid fahrenheit": {
        "event_id": "e-1",
        "device_id": "dev-0001",
        "event_type": "telemetry",
        "event_time": "2025-11-28T16:30:00.123Z",
        "event_time_ms": 1_764_347_400_123,
        "event_date": "2025-11-28",
        "event_hour": 16,
        "sent_at_ms": ARRIVAL - 5,
        "temperature_c": 21.39,
        "humidity_pct": 40.0,
        "battery_pct": 88.3,
        "firmware": "1.4.2",
        "alert": False,
        "action": None,
    },
    "valid maintenance": {
        "event_id": "m1",
        "device_id": "d1",
        "event_type": "maintenance",
        "event_time": "2025-11-28T01:00:00.000Z",
        "event_time_ms": 1_764_291_600_000,
        "event_date": "2025-11-28",
        "event_hour": 1,
        "sent_at_ms": None,
        "temperature_c": None,
        "humidity_pct": None,
        "battery_pct": None,
        "firmware": None,
        "alert": None,
        "action": "calibration",
    },
    "timestamp nine fraction digits": {
        "event_time": "2025-11-28T22:00:00.123Z",
        "event_date": "2025-11-28",
        "event_hour": 22,
    },
}
