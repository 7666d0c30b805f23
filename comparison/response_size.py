"""How large a processor buffer the Firehose Lambda can answer within Lambda's 6 MB response.

Firehose fills its processor buffer with the records' raw bytes, and the Lambda answers with each record
curated and enriched, base64-encoded, in a JSON envelope. Those grow: a full buffer of raw records can
need more than 6 MB of response, and the handler then fails the records past the limit with
`response_too_large` (they land, raw, under the error prefix). This module measures the growth with the
real handler on the workload's own records, and gives the largest buffer whose full batch still fits.

The handler's module is imported when first needed, not with this one: Powertools reads its configuration
from the environment at that import, which the local runtime sets first (`comparison.local.lambda_runtime`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import islice

from comparison.local.firehose_events import SourceRecord, transformation_event
from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines
from shared.enrichment import Registry

MB = 1024 * 1024
SAMPLE_EVENTS = 5_000
START_MS = 1_764_347_746_000


@dataclass(frozen=True)
class ResponseGrowth:
    """Response bytes per raw byte of a batch, and the largest processor buffer that fits 6 MB."""

    raw_bytes: int
    response_bytes: int

    @property
    def ratio(self) -> float:
        """Bytes of response per byte of raw record data."""
        return self.response_bytes / self.raw_bytes

    @property
    def largest_buffer_mb(self) -> float:
        """The largest processor buffer (MB of raw data) whose full batch keeps the response under the
        handler's budget (6 MB less its margin), rounded down to 0.1 MB."""
        from firehose_transform import app

        budget = app.RESPONSE_LIMIT_BYTES - app.RESPONSE_MARGIN_BYTES
        return int(budget / self.ratio / MB * 10) / 10

    def to_json(self) -> dict[str, float | int]:
        """The figures as the report stores them."""
        return {
            "raw_bytes": self.raw_bytes,
            "response_bytes": self.response_bytes,
            "ratio": round(self.ratio, 3),
            "largest_processor_buffer_mb": self.largest_buffer_mb,
        }


def measure(config: WorkloadConfig, events: int = SAMPLE_EVENTS) -> ResponseGrowth:
    """The growth on the first `events` records of the workload `config` describes, through the real handler
    with the workload's registry (the Lambda's answer for them, counted as the handler counts it)."""
    from firehose_transform import app

    registry = Registry.from_json_lines(registry_json_lines(build_registry(config)))
    sample = list(islice(generate(config, START_MS), events))
    payloads = [event.payload(event.scheduled_ms) for event in sample]
    records = [
        SourceRecord(
            record_id=f"{i:08d}",
            data=payload,
            arrival_ms=event.scheduled_ms + 1_000,
            partition_key=event.partition_key,
            sequence_number=f"{i:056d}",
        )
        for i, (event, payload) in enumerate(zip(sample, payloads, strict=True))
    ]
    response, _, _ = app.transform_event(transformation_event(records), registry)
    # Counted as the handler counts its response against the limit: data, recordId and an envelope each.
    answered = sum(len(r["data"]) + len(r["recordId"]) + app.RECORD_ENVELOPE_BYTES for r in response["records"])
    return ResponseGrowth(sum(map(len, payloads)), answered)


def warning(growth: ResponseGrowth, processor_buffer_mb: float) -> str | None:
    """What to tell a user whose processor buffer outgrows the response limit (None when it fits)."""
    if processor_buffer_mb <= growth.largest_buffer_mb:
        return None
    return (
        f"ProcessorBufferSizeMB={processor_buffer_mb:g}: this workload's records grow {growth.ratio:.2f}x in the "
        f"Lambda's response (curated, enriched, base64), so a full buffer needs about "
        f"{processor_buffer_mb * growth.ratio:.1f} MB of response, over Lambda's 6 MB. Records past the limit "
        f"fail as response_too_large (kept under the error prefix). {growth.largest_buffer_mb:g} MB is the "
        "largest buffer that fits."
    )


def main() -> None:
    """Print the growth for the default workload (the figure the README and the template quote)."""
    growth = measure(WorkloadConfig())
    print(json.dumps(growth.to_json()))


if __name__ == "__main__":
    main()
