"""Enrichment with the device registry: the one lookup both paths apply after the contract.

The registry is JSON Lines, one device per line with the fields of `shared.contract.REGISTRY_FIELDS`.
A curated record gains `site`, `region`, `model`, `known_device` and `device_alert` (its temperature
at or above the device's own threshold). Records of unknown devices are kept: known_device is false
and the other fields null. The Lambda looks devices up in memory (`Registry.enrich`); the Glue job
runs the same lookup in its contract UDF (`glue_streaming.pipeline.curate`); a test holds them to the same result.

Standard library only, Python 3.10 (AWS Glue 4.0).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any


class RegistryError(ValueError):
    """The registry file is not what `REGISTRY_FIELDS` describes."""


@dataclass(frozen=True)
class Device:
    """What the registry knows of one device."""

    site: str
    region: str
    model: str
    alert_threshold_c: float


class Registry:
    """Devices by id, loaded once and looked up per record."""

    def __init__(self, devices: dict[str, Device]) -> None:
        self.devices = devices

    def __len__(self) -> int:
        return len(self.devices)

    @classmethod
    def from_json_lines(cls, data: bytes) -> Registry:
        """Parse the registry file; a malformed line raises RegistryError naming it."""
        devices: dict[str, Device] = {}
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                device_id = row["device_id"]
                threshold = float(row["alert_threshold_c"])
                device = Device(str(row["site"]), str(row["region"]), str(row["model"]), threshold)
            except (ValueError, KeyError, TypeError) as error:
                raise RegistryError(f"registry line {number} is not a device: {error}") from None
            if not isinstance(device_id, str) or not device_id or not math.isfinite(threshold):
                raise RegistryError(f"registry line {number} has a bad device_id or alert_threshold_c")
            devices[device_id] = device
        return cls(devices)

    def enrich(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add the enrichment fields to a curated record (in place) and return it."""
        device = self.devices.get(record["device_id"])
        if device is None:
            record.update(site=None, region=None, model=None, known_device=False, device_alert=None)
            return record
        temperature = record["temperature_c"]
        record["site"] = device.site
        record["region"] = device.region
        record["model"] = device.model
        record["known_device"] = True
        record["device_alert"] = None if temperature is None else temperature >= device.alert_threshold_c
        return record
