"""Hypothesis strategies for raw Kinesis records: valid events, near misses and garbage.

The JSON is written by hand (not json.dumps) so that the strategies can emit what producers really
send and what json.dumps never would: NaN and Infinity literals, numbers beyond the double range,
duplicate keys, odd spacing, trailing data, a BOM, invalid UTF-8.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from shared import contract as c

BASE = datetime(2025, 11, 28, 12, 0, tzinfo=timezone.utc)
BASE_MS = int(BASE.timestamp() * 1000)


@dataclass(frozen=True)
class Literal:
    """JSON text emitted as is."""

    text: str


def dump(value, ws: str = "") -> str:
    """Serialise with optional whitespace after separators; Literal values pass through verbatim."""
    if isinstance(value, Literal):
        return value.text
    if isinstance(value, dict):
        items = [f"{json.dumps(k, ensure_ascii=False)}:{ws}{dump(v, ws)}" for k, v in value.items()]
        return "{" + ("," + ws).join(items) + "}"
    if isinstance(value, list):
        return "[" + ("," + ws).join(dump(v, ws) for v in value) + "]"
    if isinstance(value, float) and value != value:
        return "NaN"
    return json.dumps(value, ensure_ascii=bool(ws == " "))


numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-100, max_value=220),
    st.sampled_from(
        [
            0,
            -0.0,
            100,
            100.0,
            100.00000000000001,
            -60,
            -76,
            140,
            212,
            212.00000000000003,
            45,
            44.995,
            44.994999,
            2.675,
            1e-320,
            9007199254740991,
            9007199254740992,
        ]
    ),
    st.sampled_from(["1e400", "-1e400", "1E2", "-0", "123456789012345678901234567890", "4.4995E1", "0.1e1"]).map(
        Literal
    ),
)
json_scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def timestamps(draw) -> tuple[str, int]:
    """A timestamp string (often valid, sometimes broken) and a plausible arrival time in epoch ms."""
    instant = BASE + timedelta(milliseconds=draw(mostly(st.integers(-(10**8), 10**8), st.integers(-(10**12), 10**9))))
    offset_minutes = draw(st.sampled_from([0, 0, 60, 330, 540, -300, -570, 14 * 60, -12 * 60]))
    local = instant + timedelta(minutes=offset_minutes)
    year, month, day = local.year, local.month, local.day
    hour, minute, second = local.hour, local.minute, local.second
    if draw(st.sampled_from([False] * 19 + [True])):
        year, month, day, hour, minute, second = draw(
            st.tuples(
                st.sampled_from([1999, 2000, 2024, 2025, 2100, 0]),
                st.integers(0, 13),
                st.integers(0, 32),
                st.integers(0, 24),
                st.integers(0, 60),
                st.integers(0, 60),
            )
        )
    digits = draw(st.sampled_from([0, 3] * 8 + list(range(1, 11))))
    fraction = ""
    if digits:
        fraction = "." + f"{local.microsecond:06d}{draw(st.integers(0, 999)):03d}"[:digits].ljust(digits, "7")
    if offset_minutes == 0 and draw(st.booleans()):
        zone = "Z"
    else:
        sign = "-" if offset_minutes < 0 else "+"
        zh, zm = divmod(abs(offset_minutes), 60)
        zone = f"{sign}{zh:02d}:{zm:02d}"
    zone = draw(st.sampled_from([zone] * 90 + ["", "z", "+0900", "+24:00", "+09:60", " Z"]))
    separator = draw(st.sampled_from(["T"] * 90 + [" ", "t"]))
    text = f"{year:04d}-{month:02d}-{day:02d}{separator}{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"
    event_ms = int(instant.timestamp() * 1000)
    arrival = event_ms + draw(
        st.sampled_from([1000] * 10 + [0, 1, 300_000, 3_600_000, -299_999, -300_000, -300_001, -(10**7)])
    )
    return text, arrival


def chance(per_ten: int):
    """True in about per_ten draws out of ten. Hypothesis leans towards the first element of a
    sampled_from and towards 0 in integers, so the common outcome comes first."""
    if per_ten >= 5:
        return st.sampled_from([True] * per_ten + [False] * (10 - per_ten))
    return st.sampled_from([False] * (10 - per_ten) + [True] * per_ten)


def mostly(valid, other, per_ten: int = 8):
    """`valid` in per_ten draws out of ten, `other` in the rest."""
    return chance(per_ten).flatmap(lambda pick: valid if pick else other)


def strings(low: int, high: int):
    return st.one_of(
        st.text(min_size=low, max_size=high),
        st.text(alphabet="abcXYZ019_.:-", min_size=low, max_size=high + 2),
        st.sampled_from(["", " ", "héllo", "dev 1", "dev-1\n", "😀" * 3, "\u0000", "x" * (high + 1), "x" * high]),
    )


@st.composite
def events(draw) -> tuple[bytes, int]:
    """One raw record and its arrival time."""
    stamp, arrival = draw(timestamps())
    event_type = draw(
        st.sampled_from(["telemetry"] * 10 + ["maintenance"] * 3 + ["heartbeat"] * 3 + [None, "alarm", 7])
    )
    body: dict = {}
    if event_type is not None:
        body["event_type"] = event_type
    body["event_id"] = draw(mostly(st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36), strings(0, 128), 9))
    body["device_id"] = draw(mostly(st.integers(0, 9999).map(lambda n: f"dev-{n:04d}"), strings(0, 64), 9))
    body["event_time"] = stamp
    if draw(st.booleans()):
        body["sent_at_ms"] = draw(mostly(st.integers(BASE_MS - 10**9, BASE_MS + 10**9), numbers))
    if event_type in ("telemetry", None, 7):
        body["temperature"] = draw(mostly(st.floats(-80, 220), numbers, 6))
        body["temperature_unit"] = draw(st.sampled_from(["C"] * 6 + ["F"] * 3 + ["K", "c"]))
        body["humidity"] = draw(mostly(st.floats(0, 100), numbers, 9))
        body["battery"] = draw(mostly(st.floats(0, 100), numbers, 9))
        body["firmware"] = draw(mostly(st.sampled_from(["1.0.0", "1.4.2", "2.0.17", "é"]), strings(0, 32), 9))
    elif event_type == "maintenance":
        body["action"] = draw(mostly(st.sampled_from(["calibration", "battery_swap"]), strings(0, 64), 9))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        mutation = draw(st.sampled_from(["drop", "null", "retype", "extra"]))
        key = draw(st.sampled_from([*sorted(body), "extra"]))
        if mutation == "drop":
            body.pop(key, None)
        elif mutation == "null":
            body[key] = None
        elif mutation == "retype":
            body[key] = draw(json_values)
        else:
            body[draw(st.text(max_size=10))] = draw(json_values)
    ws = draw(st.sampled_from(["", " ", "\n  "]))
    text = dump(body, ws)
    if draw(chance(1)) and len(body) > 1:
        key = draw(st.sampled_from(sorted(body)))
        text = text[:-1] + "," + json.dumps(key) + ":" + dump(draw(json_values)) + "}"
    data = text.encode("utf-8", "surrogatepass")
    return draw(damaged(data)), arrival


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """Usually the record as is; sometimes broken the way real pipelines break records."""
    damage = draw(
        st.sampled_from(
            ["none"] * 90
            + ["truncate", "trailing", "bom", "bad_utf8", "wrap", "pad", "deep", "surrogate", "space", "spoof"]
        )
    )
    if damage == "truncate":
        return data[: draw(st.integers(len(data) // 2, max(len(data) - 1, 0)))]
    if damage == "trailing":
        return data + draw(st.sampled_from([b" ", b"x", b"}", b"{}", b",", b"\n\n", b"]", b" 5", b'"}"', b"\x0b"]))
    if damage == "bom":
        return b"\xef\xbb\xbf" + data
    if damage == "bad_utf8":
        at = draw(st.integers(0, len(data)))
        return (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80"]))
            + data[at:]
        )
    if damage == "wrap":
        return draw(st.sampled_from([b"[", b"[[", b" "])) + data + draw(st.sampled_from([b"]", b"]]", b" "]))
    if damage == "pad":
        return data[:-1] + b',"pad":"' + b"p" * draw(st.sampled_from([32_000, 33_000])) + b'"}'
    if damage == "deep":
        depth = draw(st.integers(60, 66))
        return data[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + b"}"
    if damage == "surrogate":
        escape = draw(
            st.sampled_from([b"\\ud800", b"\\udc00", b"\\ud83d\\ude00", b"\\\\ud800", b"\\ud800\\ud800\\udc00"])
        )
        return data[:-1] + b',"s":"' + escape + b'"}'
    if damage == "space":
        return b" \t\r\n" + data + b" \t\r\n"
    if damage == "spoof":
        return data + draw(st.sampled_from([b'],["x"', b',"#"],[5', b"]", b',"#"]', b"],[{}"]))
    return data


garbage = st.one_of(
    st.binary(min_size=1, max_size=64),
    # An aggregate no consumer unpacked: the KPL's magic bytes, then anything.
    st.binary(max_size=64).map(lambda tail: c.KPL_MAGIC + tail),
    st.text(max_size=40).map(lambda s: s.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: dump(v).encode("utf-8", "surrogatepass")),
)


@st.composite
def records(draw) -> tuple[bytes, int]:
    """A raw record: mostly event-shaped, sometimes pure garbage."""
    if draw(st.sampled_from([False] * 19 + [True])):
        return draw(garbage), BASE_MS
    return draw(events())
