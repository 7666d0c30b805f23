"""The delivery stream's source side: reading a Kinesis stream shard by shard as Firehose does, and the
per-shard checkpoint of what has reached S3.

The checkpoint of a shard is the last sequence number whose record (all its user records), and every record
before it, reached S3 (delivered, failed or dropped). A restart resumes after it, so it loses nothing and
re-reads only records that were still in flight, as Firehose may (delivery is at-least-once).
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from comparison.local.firehose_events import SourceRecord
from comparison.local.firehose_settings import FirehoseConfigError
from comparison.local.servers import last_sequence_number

GETRECORDS_LIMIT = 10_000
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")


class Checkpoint:
    """Per shard, where a restart resumes; saved to `path` (JSON) each time it moves."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._positions = self._load()
        self._in_flight: dict[str, deque[list]] = {}
        # Per Kinesis record in flight: [sequence number, sub-sequence numbers of its user records not yet
        # delivered].
        self._entries: dict[tuple[str, str], list] = {}

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            return json.loads(self.path.read_text())
        except ValueError as error:
            raise FirehoseConfigError(f"checkpoint {self.path} is not JSON: {error}") from None

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._positions, indent=0, sort_keys=True))
        os.replace(temporary, self.path)

    def positions(self) -> dict[str, str]:
        """Per shard, the last sequence number delivered along with every record before it."""
        return dict(self._positions)

    def position(self, shard_id: str) -> str | None:
        """The shard's checkpoint (None: nothing delivered yet)."""
        return self._positions.get(shard_id)

    def last_read(self, shard_id: str) -> str | None:
        """The sequence number of the last record read from the shard and still in flight."""
        queue = self._in_flight.get(shard_id)
        return queue[-1][0] if queue else None

    def read(self, shard_id: str, sequence_number: str, subsequence_numbers: Iterable[int]) -> None:
        """A Kinesis record read from the shard, with the sub-sequence numbers of the user records it carries."""
        entry = [sequence_number, set(subsequence_numbers)]
        self._in_flight.setdefault(shard_id, deque()).append(entry)
        self._entries[(shard_id, sequence_number)] = entry

    def complete(self, records: Iterable[SourceRecord]) -> None:
        """Mark user records as having reached S3 (or dropped) and move each shard's checkpoint."""
        shards = set()
        for record in records:
            key = (record.shard_id, record.sequence_number)
            entry = self._entries.get(key)
            if entry is not None:
                # A set, not a count: a record completed twice must not release its aggregate early.
                entry[1].discard(record.subsequence_number)
                if not entry[1]:
                    del self._entries[key]
                    shards.add(record.shard_id)
        moved = False
        for shard_id in shards:
            queue = self._in_flight[shard_id]
            while queue and not queue[0][1]:
                self._positions[shard_id] = queue.popleft()[0]
                moved = True
        if moved:
            self._save()

    def pending(self) -> int:
        """Kinesis records read whose user records are not all delivered, failed or dropped yet."""
        return len(self._entries)


class ShardReader:
    """GetRecords on each shard of a stream, from a starting position or after the checkpoint."""

    def __init__(
        self,
        kinesis,
        stream_name: str,
        checkpoint: Checkpoint,
        starting_position: str = "TRIM_HORIZON",
        starting_timestamp: datetime | None = None,
    ) -> None:
        if starting_position not in STARTING_POSITIONS:
            raise FirehoseConfigError(f"starting position {starting_position!r}: TRIM_HORIZON, LATEST or AT_TIMESTAMP")
        if starting_position == "AT_TIMESTAMP" and starting_timestamp is None:
            raise FirehoseConfigError("AT_TIMESTAMP needs a starting timestamp")
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.checkpoint = checkpoint
        self.starting_position = starting_position
        self.starting_timestamp = starting_timestamp
        self._latest_start: dict[str, str | None] = {}
        self._iterators: dict[str, str | None] = {}

    def shards(self) -> list[str]:
        """The stream's shard ids."""
        shards, token = [], None
        while True:
            page = (
                self.kinesis.list_shards(NextToken=token)
                if token
                else self.kinesis.list_shards(StreamName=self.stream_name)
            )
            shards += [s["ShardId"] for s in page["Shards"]]
            token = page.get("NextToken")
            if not token:
                return shards

    def _iterator(self, shard_id: str, after: str | None = None) -> str:
        arguments: dict[str, Any] = {"StreamName": self.stream_name, "ShardId": shard_id}
        after = after or self.checkpoint.position(shard_id)
        if after is None and self.starting_position == "LATEST":
            # LATEST as a position (after the last record present at the first start), so that an
            # iterator taken again after it expired does not skip what arrived in between.
            if shard_id not in self._latest_start:
                self._latest_start[shard_id] = last_sequence_number(self.kinesis, self.stream_name, shard_id)
            after = self._latest_start[shard_id]
            if after is None:
                arguments.update(ShardIteratorType="TRIM_HORIZON")
                return self.kinesis.get_shard_iterator(**arguments)["ShardIterator"]
        if after is not None:
            arguments.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
        elif self.starting_position == "AT_TIMESTAMP":
            arguments.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=self.starting_timestamp)
        else:
            arguments.update(ShardIteratorType=self.starting_position)
        return self.kinesis.get_shard_iterator(**arguments)["ShardIterator"]

    def get_records(self, shard_id: str) -> list[dict[str, Any]]:
        """The shard's next records (none once the shard is closed, or when its iterator had expired)."""
        iterator = self._iterators.get(shard_id)
        if shard_id not in self._iterators:
            iterator = self._iterators[shard_id] = self._iterator(shard_id)
        if iterator is None:
            return []
        try:
            page = self.kinesis.get_records(ShardIterator=iterator, Limit=GETRECORDS_LIMIT)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExpiredIteratorException":
                raise
            # An iterator lives 5 minutes: after a longer outage, resume after the last record read.
            self._iterators[shard_id] = self._iterator(shard_id, after=self.checkpoint.last_read(shard_id))
            return []
        self._iterators[shard_id] = page.get("NextShardIterator")
        return page["Records"]
