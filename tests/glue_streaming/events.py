"""Raw events for the pipeline's tests, built by hand so that every expected output can be read off them.

Imports nothing but the standard library: these tests also run on Glue's Python 3.10 with PySpark 3.3.0.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

T0 = 1_764_345_600_000  # 2025-11-28T16:00:00Z, a window boundary
MINUTE = 60_000


def iso(ms: int) -> str:
    """UTC ISO-8601 with milliseconds, as devices send it."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def telemetry(event_id: str, device: str, at_ms: int, temperature: float = 20.0, unit: str = "C") -> bytes:
    """A valid telemetry event."""
    body = {
        "event_id": event_id,
        "event_type": "telemetry",
        "device_id": device,
        "event_time": iso(at_ms),
        "temperature": temperature,
        "temperature_unit": unit,
        "humidity": 40.0,
        "battery": 90.0,
        "firmware": "1.0.0",
    }
    return json.dumps(body).encode()


def maintenance(event_id: str, device: str, at_ms: int, action: str = "recalibrate") -> bytes:
    """A valid maintenance event."""
    body = {"event_id": event_id, "event_type": "maintenance", "device_id": device, "event_time": iso(at_ms)}
    return json.dumps({**body, "action": action}).encode()


def heartbeat(event_id: str, device: str, at_ms: int) -> bytes:
    """A heartbeat: valid, dropped by design."""
    body = {"event_id": event_id, "event_type": "heartbeat", "device_id": device, "event_time": iso(at_ms)}
    return json.dumps(body).encode()


REGISTRY = (
    b'{"device_id": "dev-1", "site": "site-a", "region": "eu", "model": "m1", "alert_threshold_c": 30.0}\n'
    b'{"device_id": "dev-2", "site": "site-a", "region": "eu", "model": "m2", "alert_threshold_c": 50.0}\n'
    b'{"device_id": "dev-3", "site": "site-b", "region": "us", "model": "m1", "alert_threshold_c": 25.0}\n'
)
