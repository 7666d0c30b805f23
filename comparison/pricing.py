"""The prices the cost model uses: `comparison/data/pricing.json` read per region, with each price's provenance.

Every price, limit and byte unit in that file carries its source, date and status (see the file); the billing
rules that are pure arithmetic on prices (rounding up to a billing increment, tiered prices, Firehose's 5 KB
record rounding) live here too, so that a cost line and a test compute them one way.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

# Least certain last: a figure built from several prices is as certain as its least certain one.
STATUS_ORDER = ("confirmed", "assumption", "from price-list copies", "UNCONFIRMED")
# Absorbs float noise in a division before rounding up (2.1 / 0.3 is 7.000000000000001: 7 units, not 8).
_CEIL_TOLERANCE = 1e-9


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


def least_certain(prices: Iterable[Price]) -> str:
    """The least certain status among `prices` ("confirmed" for none)."""
    return max((p.status for p in prices), key=STATUS_ORDER.index, default="confirmed")


def provenance(region: str, prices: Sequence[Price]) -> dict[str, Any]:
    """`region`, `currency`, `pricing_date`, `pricing_source` (URLs) and `pricing_status` of a figure built
    from `prices`."""
    return {
        "region": region,
        "currency": "USD",
        # The oldest date: the estimate is no more recent than its oldest price.
        "pricing_date": min(p.as_of for p in prices),
        "pricing_source": sorted({p.source for p in prices}),
        "pricing_status": {p.name: p.status for p in sorted(prices, key=lambda p: p.name)},
    }


def ceil_units(quantity: float) -> int:
    """`quantity` rounded up to a whole number, float noise aside (for billed units, shards, workers)."""
    return math.ceil(quantity - _CEIL_TOLERANCE)


def round_up(size: float, increment: float) -> float:
    """`size` rounded up to a whole number of `increment`s."""
    return ceil_units(size / increment) * increment


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
    return int(round_up(record_size_bytes, pricing(region).number("firehose_ingestion_increment")))
