"""A Kinesis stream as a Spark streaming source, on PySpark 4's Python Data Source API.

This is the local stand-in for Glue's Kinesis connector: the local runner reads the same stream the
Firehose simulator reads, and hands the Glue pipeline the frame Glue would (`data` bytes, arrival time,
shard and sequence number). Register it with `spark.dataSource.register(KinesisDataSource)`, then
`spark.readStream.format("kinesis-local").option("streamName", ...).load()`.

KPL-aggregated records are unpacked into their user records (option `deaggregate`, "true" by default),
as Spark's Kinesis connectors do with the Kinesis Client Library; whether Glue's source does is not
documented, so this is an assumption, and "false" hands each aggregate on whole (the contract then
quarantines it as kpl_aggregate). An aggregate that cannot be unpacked goes on whole either way. The
per-shard limits count Kinesis records, not user records.

Offsets, per shard, are the sequence number of the last record a batch includes (or where a shard's
reading starts: its trim horizon or a timestamp). Sequence numbers are opaque decimal strings of up
to 56 digits: they are ordered as integers, never as text.

- `latestOffset` runs on the driver. Kinesis has no "latest sequence number" call, so it reads ahead
  from the previous end to find where this batch ends, and keeps its shard iterators between batches
  so that each record is read once there.
- `partitions` runs on the driver too: for each shard range whose records that read-ahead has just read,
  it writes them to a local file (Arrow IPC, in a folder of the reader's under Spark's local folder) and
  names it in the partition, so that the batch's records are fetched from Kinesis once, not twice (a
  60,000-record backlog took 3.7 s to read ahead, and the executors took as long again). A file goes when
  its batch commits, the folder when the reader stops or, if Spark ends the reader's process first, with
  Spark's local folder or when a later reader finds that process gone. Without a file (a full disk) the
  executors read Kinesis.
- `read` runs on executors, one partition per shard: it takes the driver's file when it can open it (an
  executor on the same machine), and otherwise reads exactly the records after the start and up to the end
  sequence number, through its own client. Either way it is deterministic: a replayed batch (after a
  crash; its driver read nothing ahead) reads the same records from Kinesis. A pipeline that branches
  (curated records, aggregates, a join) may scan the source once per branch; a small per-process cache of
  finished reads serves those repeats, which is safe because a range of sequence numbers always holds the
  same records.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition

from comparison import kpl
from comparison.local import kinesis_spill
from comparison.local.kinesis_client import shared_client

try:  # Admission control (read limits) came with PySpark 4.2; 4.0 and 4.1 call latestOffset() alone.
    from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadMaxRows
except ImportError:
    ReadAllAvailable = ReadMaxRows = None

SCHEMA = "data binary, arrival_ms long, shard_id string, sequence_number string, partition_key string"
ARROW_SCHEMA = pa.schema(
    [
        ("data", pa.binary()),
        ("arrival_ms", pa.int64()),
        ("shard_id", pa.string()),
        ("sequence_number", pa.string()),
        ("partition_key", pa.string()),
    ]
)
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
GET_RECORDS_LIMIT = 10_000
# Shards read ahead at the same time on the driver: beyond the local machine's cores, more threads only wait.
READ_AHEAD_THREADS = 8


class KinesisSourceError(ValueError):
    """A bad option, or a stream that no longer holds the records a batch needs."""


def _sequence(value: str) -> int:
    return int(value)


@dataclass(frozen=True)
class ShardPosition:
    """Where a shard's next read starts: after `sequence`, else at `timestamp_ms`, else its trim horizon."""

    sequence: str | None = None
    timestamp_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The offset form Spark writes into the checkpoint."""
        return {"after": self.sequence, "at_ms": self.timestamp_ms}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ShardPosition:
        """The inverse of `to_json`."""
        return cls(value.get("after"), value.get("at_ms"))

    def iterator_arguments(self) -> dict[str, Any]:
        """get_shard_iterator arguments that start reading here."""
        if self.sequence is not None:
            return {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": self.sequence}
        if self.timestamp_ms is not None:
            return {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": self.timestamp_ms / 1000}
        return {"ShardIteratorType": "TRIM_HORIZON"}


@dataclass(frozen=True)
class ShardRange(InputPartition):
    """One shard's records of one batch: after `start`, up to and including sequence `end`; `spill` names the
    driver's local file of exactly those records, when it read them ahead."""

    stream: str
    shard_id: str
    start: ShardPosition
    end: str
    spill: str | None = None


def _pages(kinesis, iterator: str | None, budget: int | None = None) -> Iterator[tuple[list[dict], str | None, int]]:
    """GetRecords pages from an iterator: (records, next iterator, millis behind latest). With a budget, no
    page reads past it, so each next iterator starts right after the last record returned."""
    taken = 0
    while iterator and (budget is None or taken < budget):
        limit = GET_RECORDS_LIMIT if budget is None else min(GET_RECORDS_LIMIT, budget - taken)
        page = kinesis.get_records(ShardIterator=iterator, Limit=limit)
        iterator = page.get("NextShardIterator")
        taken += len(page["Records"])
        yield page["Records"], iterator, int(page.get("MillisBehindLatest", 0))


def _columns(records: list[dict], shard_id: str, deaggregate: bool) -> pa.RecordBatch:
    """Kinesis records (GetRecords' form) as the source's rows: one per user record."""
    columns: dict[str, list] = {name: [] for name in ARROW_SCHEMA.names}
    for record in records:
        arrival_ms = int(record["ApproximateArrivalTimestamp"].timestamp() * 1000)
        users, _ = kpl.user_records(record["Data"], record["PartitionKey"], deaggregate)
        for user in users:
            columns["data"].append(user.data)
            columns["arrival_ms"].append(arrival_ms)
            columns["shard_id"].append(shard_id)
            columns["sequence_number"].append(record["SequenceNumber"])
            columns["partition_key"].append(user.partition_key)
    return pa.RecordBatch.from_pydict(columns, schema=ARROW_SCHEMA)


def read_range(options: dict[str, str], part: ShardRange) -> pa.RecordBatch:
    """Every record of one shard range: from the driver's file, the per-process cache, or Kinesis.

    `options` are the reader's, with lower-cased keys (`endpointurl`, `region`).
    """
    deaggregate = options.get("deaggregate", "true") == "true"
    key = (options.get("endpointurl", ""), part.stream, part.shard_id, part.start, part.end, deaggregate)
    cached = kinesis_spill.CACHE.get(key)
    if cached is not None:
        return cached
    spilled = kinesis_spill.read(part.spill) if part.spill else None
    if spilled is not None:
        kinesis_spill.CACHE.put(key, spilled)
        return spilled
    kinesis = shared_client(options)
    end = _sequence(part.end)
    iterator = kinesis.get_shard_iterator(
        StreamName=part.stream, ShardId=part.shard_id, **part.start.iterator_arguments()
    )["ShardIterator"]
    taken: list[dict] = []
    reached = False
    for records, next_iterator, behind in _pages(kinesis, iterator):
        for record in records:
            sequence = record["SequenceNumber"]
            if _sequence(sequence) > end:
                reached = True
                break
            taken.append(record)
            if _sequence(sequence) == end:
                reached = True
                break
        if reached:
            break
        if not records and behind == 0 and next_iterator is not None:
            raise KinesisSourceError(
                f"{part.stream}/{part.shard_id} ends before sequence number {part.end}: the records this batch "
                "needs are gone (retention expired, or a different stream with the same name)"
            )
    if not reached:
        raise KinesisSourceError(f"{part.stream}/{part.shard_id} closed before sequence number {part.end}")
    batch = _columns(taken, part.shard_id, deaggregate)
    kinesis_spill.CACHE.put(key, batch)
    return batch


class KinesisStreamReader(DataSourceStreamReader):
    """Micro-batch reading of one Kinesis stream: one partition per shard with new records."""

    def __init__(self, options: dict[str, str]) -> None:
        # Spark hands options over case-insensitively (lower-cased keys); keep one spelling.
        options = {key.lower(): value for key, value in options.items()}
        self.options = options
        self.stream = options.get("streamname") or ""
        if not self.stream:
            raise KinesisSourceError("option streamName is required")
        self.starting_position = options.get("startingposition", "TRIM_HORIZON").upper()
        if self.starting_position not in STARTING_POSITIONS:
            raise KinesisSourceError(
                f"startingPosition {self.starting_position!r} is not one of {', '.join(STARTING_POSITIONS)}"
            )
        self.starting_timestamp_ms = None
        if self.starting_position == "AT_TIMESTAMP":
            if "startingtimestampms" not in options:
                raise KinesisSourceError("startingPosition AT_TIMESTAMP needs the option startingTimestampMs")
            self.starting_timestamp_ms = int(options["startingtimestampms"])
        if options.get("deaggregate", "true") not in ("true", "false"):
            raise KinesisSourceError(f"deaggregate must be true or false, not {options['deaggregate']!r}")
        self.max_records = self._limit(options, "maxRecordsPerBatch")
        self.max_per_shard = self._limit(options, "maxRecordsPerShard")
        # Driver-side read-ahead: per shard, the last sequence number read and the iterator after it.
        self._cursors: dict[str, tuple[str, str | None]] = {}
        # Where the last batch this reader planned ends (its start offset, before the first).
        self._planned_end: dict | None = None
        # Per shard, the latest read-ahead: where it started, its last sequence number, its records.
        self._read: dict[str, tuple[dict, str, list[dict]]] = {}
        # The files of planned ranges not yet committed.
        self._spills = kinesis_spill.SpillFolder()

    @staticmethod
    def _limit(options: dict[str, str], name: str) -> int | None:
        raw = options.get(name.lower())
        if not raw:
            return None
        if not raw.isdigit() or int(raw) < 1:
            raise KinesisSourceError(f"{name} must be a whole number of at least 1, not {raw!r}")
        return int(raw)

    def _kinesis(self):
        return shared_client(self.options)

    def _shard_ids(self) -> list[str]:
        shards, token = [], None
        while True:
            page = (
                self._kinesis().list_shards(NextToken=token)
                if token
                else self._kinesis().list_shards(StreamName=self.stream)
            )
            shards.extend(s["ShardId"] for s in page["Shards"])
            token = page.get("NextToken")
            if not token:
                return shards

    def _new_shard_position(self, shard_id: str) -> ShardPosition:
        if self.starting_position == "AT_TIMESTAMP":
            return ShardPosition(timestamp_ms=self.starting_timestamp_ms)
        if self.starting_position == "LATEST":
            # After the last record the shard holds now (its start if it holds none): a position that
            # a replay finds again, unlike a LATEST iterator or the local clock.
            last, _ = self._read_ahead(shard_id, ShardPosition(), None, keep=False)
            return ShardPosition(sequence=last)
        return ShardPosition()

    def initialOffset(self) -> dict:
        """Each shard's starting position: its trim horizon, a timestamp, or (LATEST) after the last record
        it holds when the query first starts."""
        self._planned_end = {shard: self._new_shard_position(shard).to_json() for shard in self._shard_ids()}
        return dict(self._planned_end)

    def getDefaultReadLimit(self) -> Any:
        """maxRecordsPerBatch, if set, bounds each micro-batch (PySpark 4.2 on)."""
        return ReadMaxRows(self.max_records) if self.max_records else ReadAllAvailable()

    def _read_ahead(
        self, shard_id: str, start: ShardPosition, budget: int | None, keep: bool = True
    ) -> tuple[str | None, int]:
        """The last record available after `start` (within budget), if any, and how many records that is;
        with `keep`, the records are held for `partitions` to hand to the executors."""
        cursor = self._cursors.get(shard_id)
        if cursor and start.sequence is not None and _sequence(cursor[0]) == _sequence(start.sequence):
            iterator = cursor[1]
        else:
            iterator = self._kinesis().get_shard_iterator(
                StreamName=self.stream, ShardId=shard_id, **start.iterator_arguments()
            )["ShardIterator"]
        last, taken, read = None, 0, []
        for records, next_iterator, behind in _pages(self._kinesis(), iterator, budget):
            if records:
                last, taken = records[-1]["SequenceNumber"], taken + len(records)
                if keep:
                    read.extend(records)
                self._cursors[shard_id] = (last, next_iterator)
            if not records and behind == 0:
                break
        self._read.pop(shard_id, None)
        if keep and last is not None:
            self._read[shard_id] = (start.to_json(), last, read)
        return last, taken

    def latestOffset(self, start: dict | None = None, limit: Any = None) -> dict:
        """Where this batch ends: per shard, the last record available now (bounded by maxRecordsPerBatch).

        PySpark 4.2 on passes the batch's start; 4.0 and 4.1 do not, and the batch starts where the
        previous one this reader planned ended. After a restart on those versions the reader has planned
        none, and reads to the end of each shard, unbounded: a bounded read from the shard's start could
        end before what the checkpoint has already committed.
        """
        known = start if start is not None else self._planned_end
        end = dict(known or {})
        shard_ids = self._shard_ids()
        for shard_id in shard_ids:
            end.setdefault(shard_id, ShardPosition().to_json())
        if self.max_records is None or known is None:
            found = self._read_ahead_each(shard_ids, end)
        else:
            found = self._read_ahead_sharing(shard_ids, end, self.max_records)
        for shard_id, last in found.items():
            position = ShardPosition.from_json(end[shard_id])
            if last is not None and (position.sequence is None or _sequence(last) > _sequence(position.sequence)):
                end[shard_id] = ShardPosition(sequence=last).to_json()
        self._planned_end = end
        return end

    def _read_ahead_each(self, shard_ids: list[str], end: dict) -> dict[str, str | None]:
        """Each shard read ahead from its position in `end` (up to maxRecordsPerShard) at the same time: the last
        sequence number found per shard.

        Without a row limit to share out, the shards' reads are independent, and reading them at once overlaps one
        shard's wait for Kinesis with another's parsing: the bench's backlog (60,574 records on 2 shards) read in
        3.1-4.0 s against 4.1-5.2 s one shard after the other (three reads each, alternated, 2026-12-01T13:10Z).
        """

        def one(shard_id: str) -> str | None:
            return self._read_ahead(shard_id, ShardPosition.from_json(end[shard_id]), self.max_per_shard)[0]

        workers = max(1, min(len(shard_ids), READ_AHEAD_THREADS))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kinesis-read-ahead") as pool:
            return dict(zip(shard_ids, pool.map(one, shard_ids), strict=True))

    def _read_ahead_sharing(self, shard_ids: list[str], end: dict, limit: int) -> dict[str, str | None]:
        """The shards read ahead one after the other within a row limit: what one shard leaves unused goes to the
        next. The last sequence number found per shard read."""
        found: dict[str, str | None] = {}
        remaining = limit
        for index, shard_id in enumerate(shard_ids):
            if remaining <= 0:
                break
            budget = max(1, remaining // (len(shard_ids) - index))
            if self.max_per_shard is not None:
                budget = min(budget, self.max_per_shard)
            found[shard_id], taken = self._read_ahead(shard_id, ShardPosition.from_json(end[shard_id]), budget)
            remaining -= taken
        return found

    def partitions(self, start: dict, end: dict) -> list[ShardRange]:
        """One partition per shard that has records between the two offsets."""
        parts = []
        for shard_id, end_json in sorted(end.items()):
            last = ShardPosition.from_json(end_json).sequence
            first = ShardPosition.from_json(start.get(shard_id, ShardPosition().to_json()))
            if last is None or (first.sequence is not None and _sequence(last) <= _sequence(first.sequence)):
                continue
            parts.append(ShardRange(self.stream, shard_id, first, last, self._spill(shard_id, first, last)))
        return parts

    def _spill(self, shard_id: str, start: ShardPosition, end: str) -> str | None:
        """The file of the range's records, written from the read-ahead when it read exactly that range."""
        ahead = self._read.get(shard_id)
        if ahead is None or ahead[0] != start.to_json() or _sequence(ahead[1]) != _sequence(end):
            return None
        del self._read[shard_id]
        batch = _columns(ahead[2], shard_id, self.options.get("deaggregate", "true") == "true")
        return self._spills.write(shard_id, end, batch)

    def read(self, partition: ShardRange) -> Iterator[pa.RecordBatch]:
        """The partition's records, as one Arrow batch."""
        yield read_range(self.options, partition)

    def commit(self, end: dict) -> None:
        """Remove the files of the committed ranges (Kinesis keeps no consumer position; Spark's checkpoint
        holds it)."""
        positions = {shard_id: ShardPosition.from_json(position).sequence for shard_id, position in end.items()}
        self._spills.commit({shard_id: _sequence(s) if s else None for shard_id, s in positions.items()})

    def stop(self) -> None:
        """Remove the reader's files when the query stops."""
        self._spills.remove()


class KinesisDataSource(DataSource):
    """`format("kinesis-local")`: options streamName, endpointUrl, region, startingPosition
    (TRIM_HORIZON, LATEST, AT_TIMESTAMP with startingTimestampMs), maxRecordsPerBatch (in all),
    maxRecordsPerShard (per shard and micro-batch, as Glue's maxFetchRecordsPerShard)."""

    @classmethod
    def name(cls) -> str:
        """The format name."""
        return "kinesis-local"

    def schema(self) -> str:
        """What Glue's Kinesis source gives the pipeline, after the entry's adapter."""
        return SCHEMA

    def streamReader(self, schema) -> KinesisStreamReader:
        """The micro-batch reader."""
        return KinesisStreamReader(self.options)
