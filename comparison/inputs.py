"""The run's input record: every produced record, as written to DIR/input/events.jsonl.

One JSON object per line (format version 1):
  index, event_id, device_id, partition_key   identity; partition_key is the device id
  kind, reason, field                          the generator's intent (see comparison.workload.Intent)
  lag_ms, late, duplicate_of, unknown_device
  scheduled_ms, sent_at_ms                     when it was due and when the producer sent it (epoch ms)
  shard_id, sequence_number                    where Kinesis stored it (absent when not sent to Kinesis)
  subsequence_number                           its place in the KPL aggregate that carried it (absent
                                               when it was sent alone)
  data_b64                                     the exact bytes produced, base64
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import IO

from comparison.producer import Sent
from comparison.workload import Event

FORMAT_VERSION = 1


def input_row(event: Event, sent_at_ms: int, sent: Sent | None = None) -> dict[str, object]:
    """The input-file row of one produced record."""
    row: dict[str, object] = {
        "index": event.index,
        "event_id": event.event_id,
        "device_id": event.device_id,
        "partition_key": event.partition_key,
        **asdict(event.intent),
        "scheduled_ms": event.scheduled_ms,
        "sent_at_ms": sent_at_ms,
    }
    if sent is not None:
        row["shard_id"] = sent.shard_id
        row["sequence_number"] = sent.sequence_number
        if sent.subsequence_number is not None:
            row["subsequence_number"] = sent.subsequence_number
    row["data_b64"] = base64.b64encode(event.payload(sent_at_ms)).decode()
    return row


def write_rows(stream: IO[str], rows: Iterable[dict[str, object]]) -> int:
    """Append rows as JSON Lines; returns how many were written."""
    count = 0
    for row in rows:
        stream.write(json.dumps(row, separators=(",", ":")) + "\n")
        count += 1
    return count


def read_rows(path: Path) -> list[dict[str, object]]:
    """Read an input file back (with `data` decoded to bytes)."""
    rows = []
    with open(path) as stream:
        for line in stream:
            row = json.loads(line)
            row["data"] = base64.b64decode(row["data_b64"])
            rows.append(row)
    return rows
