"""The workload: a device registry and a deterministic stream of IoT telemetry, with the faults real
producers cause (late and out-of-order events, re-sent duplicates, malformed records), maintenance
events for the stream-to-stream join, and heartbeats.

Everything is a pure function of `WorkloadConfig` (its seed included) and the run's start time: the
same configuration yields the same events, values and faults. Only `sent_at_ms`, the producer's
send time, is stamped when a record is actually sent. Each event also carries the generator's
*intent* (`Intent`): what the contract should say about it. The ground truth of a run is computed
from these intents, independently of both paths.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from shared import contract as c
from shared.record import format_utc_ms

REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-2")
MODELS = (("TH-100", "C"), ("TH-200", "C"), ("TH-US", "F"))
ACTIONS = ("calibration", "battery_swap", "firmware_update", "inspection")
FIRMWARES = ("1.4.2", "1.5.0", "2.0.1")


@dataclass(frozen=True)
class Device:
    """A registry entry: what enrichment adds to each reading, and the device's own alert threshold."""

    device_id: str
    site: str
    region: str
    model: str
    alert_threshold_c: float
    unit: str
    base_c: float
    firmware: str

    def registry_row(self) -> dict[str, object]:
        """The device as the registry file stores it (see `shared.contract.REGISTRY_FIELDS`)."""
        return {name: getattr(self, name) for name, _ in c.REGISTRY_FIELDS}


@dataclass(frozen=True)
class WorkloadConfig:
    """What to generate. Fractions are per telemetry event; rates in events per second."""

    seed: int = 7
    devices: int = 40
    sites: int = 6
    rate: float = 200.0
    duration_s: float = 60.0
    out_of_order_fraction: float = 0.05  # event_time 1-20 s behind the send time
    late_fraction: float = 0.01  # event_time far behind: late_lag_s
    late_lag_s: tuple[float, float] = (240.0, 600.0)
    duplicate_fraction: float = 0.01  # the same record sent again shortly after
    malformed_fraction: float = 0.01
    unknown_device_fraction: float = 0.005
    maintenance_fraction: float = 0.01
    heartbeat_fraction: float = 0.02
    alert_fraction: float = 0.02

    def __post_init__(self) -> None:
        fractions = {
            name: getattr(self, name)
            for name in (
                "out_of_order_fraction",
                "late_fraction",
                "duplicate_fraction",
                "malformed_fraction",
                "unknown_device_fraction",
                "maintenance_fraction",
                "heartbeat_fraction",
                "alert_fraction",
            )
        }
        for name, value in fractions.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.out_of_order_fraction + self.late_fraction > 1.0:
            raise ValueError("out_of_order_fraction + late_fraction must not exceed 1")
        if self.rate <= 0 or self.duration_s <= 0:
            raise ValueError(f"rate and duration_s must be positive, got {self.rate} and {self.duration_s}")
        if not 1 <= self.sites <= self.devices:
            raise ValueError(f"need 1 <= sites <= devices, got {self.sites} sites for {self.devices} devices")
        low, high = self.late_lag_s
        if not 0 < low <= high:
            raise ValueError(f"late_lag_s must be an increasing pair of positive seconds, got {self.late_lag_s}")

    @property
    def total_scheduled(self) -> int:
        """Number of scheduled sends (duplicates ride along with them)."""
        return int(self.rate * self.duration_s)


@dataclass(frozen=True)
class Intent:
    """What the generator meant a record to be: the expected contract outcome and the fault injected.

    kind: telemetry, maintenance, heartbeat or malformed. For malformed records, reason and field
    are the reason code the contract must report. lag_ms is send time minus event time.
    """

    kind: str
    reason: str | None = None
    field: str | None = None
    lag_ms: int = 0
    late: bool = False
    duplicate_of: int | None = None
    unknown_device: bool = False


@dataclass
class Event:
    """One record to send: `payload(sent_at_ms)` gives its bytes."""

    index: int
    scheduled_ms: int
    partition_key: str
    intent: Intent
    body: dict[str, object] | None = None
    raw: bytes | None = None
    event_id: str | None = None
    device_id: str | None = None
    original: Event | None = None
    _frozen: bytes | None = field(default=None, repr=False)

    def payload(self, sent_at_ms: int) -> bytes:
        """The record's bytes, stamped with the first send time. A duplicate repeats its original's."""
        if self._frozen is not None:
            return self._frozen
        if self.original is not None:
            data = self.original.payload(sent_at_ms)
        elif self.raw is not None:
            data = self.raw
        else:
            body = dict(self.body or {})
            body["sent_at_ms"] = sent_at_ms
            if isinstance(body.get("event_time"), int):
                body["event_time"] = format_utc_ms(sent_at_ms - self.intent.lag_ms)
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        self._frozen = data
        return data


def build_registry(config: WorkloadConfig) -> list[Device]:
    """The device registry: deterministic from the seed."""
    rng = random.Random(f"registry-{config.seed}")
    devices = []
    for n in range(config.devices):
        model, unit = MODELS[n % len(MODELS)]
        site = n % config.sites
        devices.append(
            Device(
                device_id=f"dev-{n:04d}",
                site=f"site-{site:02d}",
                region=REGIONS[site % len(REGIONS)],
                model=model,
                alert_threshold_c=float(rng.choice((30, 35, 40, 45))),
                unit=unit,
                base_c=round(rng.uniform(15.0, 28.0), 2),
                firmware=rng.choice(FIRMWARES),
            )
        )
    return devices


def registry_json_lines(devices: list[Device]) -> bytes:
    """The registry as JSON Lines, the format both paths read."""
    return b"".join(json.dumps(d.registry_row(), separators=(",", ":")).encode() + b"\n" for d in devices)


def _malformed(rng: random.Random, event_id: str, device: Device, event_ms: int) -> tuple[bytes, str, str | None]:
    good = {
        "event_id": event_id,
        "device_id": device.device_id,
        "event_time": format_utc_ms(event_ms),
        "temperature": 21.0,
        "temperature_unit": "C",
        "humidity": 40.0,
        "battery": 90.0,
        "firmware": device.firmware,
    }
    text = json.dumps(good, separators=(",", ":"))
    choice = rng.randrange(9)
    if choice == 0:
        return text[: rng.randrange(5, len(text) - 2)].encode(), c.NOT_JSON, None
    if choice == 1:
        return b"\xff\xfe" + text.encode(), c.NOT_UTF8, None
    if choice == 2:
        return b"[" + text.encode() + b"]", c.NOT_OBJECT, None
    if choice == 3:
        del good["device_id"]
        return json.dumps(good).encode(), c.MISSING_FIELD, "device_id"
    if choice == 4:
        good["temperature"] = "21.0"
        return json.dumps(good).encode(), c.WRONG_TYPE, "temperature"
    if choice == 5:
        good["humidity"] = 180.0
        return json.dumps(good).encode(), c.OUT_OF_RANGE, "humidity"
    if choice == 6:
        good["event_time"] = good["event_time"].replace("Z", "")
        return json.dumps(good).encode(), c.BAD_TIMESTAMP, "event_time"
    if choice == 7:
        good["event_time"] = format_utc_ms(event_ms + 3_600_000)
        return json.dumps(good).encode(), c.FUTURE_TIMESTAMP, "event_time"
    good["temperature"] = 500.0
    return json.dumps(good).encode(), c.OUT_OF_RANGE, "temperature"


def generate(config: WorkloadConfig, start_ms: int) -> Iterator[Event]:
    """The events of a run, in send order, with scheduled send times from `start_ms` at `config.rate`.

    Event times of valid events are derived from the actual send time (minus the intended lag), so
    latency and lateness mean the same thing however fast the producer really runs.
    """
    rng = random.Random(f"events-{config.seed}")
    devices = build_registry(config)
    interval_ms = 1000.0 / config.rate
    pending_duplicates: list[tuple[int, Event]] = []
    index = 0
    for n in range(config.total_scheduled):
        scheduled = start_ms + int(n * interval_ms)
        while pending_duplicates and pending_duplicates[0][0] <= n:
            _, original = pending_duplicates.pop(0)
            yield Event(
                index=index,
                scheduled_ms=scheduled,
                partition_key=original.partition_key,
                intent=Intent(
                    kind=original.intent.kind,
                    lag_ms=original.intent.lag_ms,
                    late=original.intent.late,
                    duplicate_of=original.index,
                    unknown_device=original.intent.unknown_device,
                ),
                event_id=original.event_id,
                device_id=original.device_id,
                original=original,
            )
            index += 1
        device = rng.choice(devices)
        event_id = f"{config.seed}-{n:08d}"
        roll = rng.random()
        thresholds = (config.malformed_fraction, config.heartbeat_fraction, config.maintenance_fraction)
        if roll < thresholds[0]:
            raw, reason, field_name = _malformed(rng, event_id, device, scheduled - 1000)
            yield Event(
                index=index,
                scheduled_ms=scheduled,
                partition_key=device.device_id,
                intent=Intent(kind="malformed", reason=reason, field=field_name),
                raw=raw,
                event_id=event_id,
                device_id=device.device_id,
            )
            index += 1
            continue
        roll -= thresholds[0]
        if roll < thresholds[1] + thresholds[2]:
            kind = c.HEARTBEAT if roll < thresholds[1] else c.MAINTENANCE
            body: dict[str, object] = {
                "event_type": kind,
                "event_id": event_id,
                "device_id": device.device_id,
                "event_time": 0,
            }
            if kind == c.MAINTENANCE:
                body["action"] = rng.choice(ACTIONS)
            lag = rng.randrange(0, 2000)
            yield Event(
                index=index,
                scheduled_ms=scheduled,
                partition_key=device.device_id,
                intent=Intent(kind=kind, lag_ms=lag),
                body=body,
                event_id=event_id,
                device_id=device.device_id,
            )
            index += 1
            continue
        unknown = rng.random() < config.unknown_device_fraction
        device_id = f"dev-x{n % 97:03d}" if unknown else device.device_id
        lag_roll = rng.random()
        late = lag_roll < config.late_fraction
        if late:
            lag = int(rng.uniform(*config.late_lag_s) * 1000)
        elif lag_roll < config.late_fraction + config.out_of_order_fraction:
            lag = rng.randrange(1000, 20_000)
        else:
            lag = rng.randrange(0, 1000)
        celsius = device.base_c + rng.gauss(0.0, 1.5)
        if rng.random() < config.alert_fraction:
            celsius = device.alert_threshold_c + rng.uniform(0.5, 15.0)
        temperature = celsius * 9.0 / 5.0 + 32.0 if device.unit == "F" else celsius
        body = {
            "event_id": event_id,
            "device_id": device_id,
            "event_time": 0,
            "temperature": round(temperature, 2),
            "temperature_unit": device.unit,
            "humidity": round(min(100.0, max(0.0, rng.gauss(45.0, 10.0))), 1),
            "battery": round(max(0.0, 100.0 - (n % 5000) / 50.0 - rng.random()), 1),
            "firmware": device.firmware,
        }
        event = Event(
            index=index,
            scheduled_ms=scheduled,
            partition_key=device_id,
            intent=Intent(kind=c.TELEMETRY, lag_ms=lag, late=late, unknown_device=unknown),
            body=body,
            event_id=event_id,
            device_id=device_id,
        )
        yield event
        index += 1
        if rng.random() < config.duplicate_fraction:
            # A retrying producer re-sends the same bytes a little later (1 to 30 sends on).
            pending_duplicates.append((n + rng.randrange(1, 30), event))
            pending_duplicates.sort(key=lambda item: item[0])


def intent_dict(intent: Intent) -> dict[str, object]:
    """The intent as written to the input file."""
    return asdict(intent)
