"""The Kinesis Producer Library's aggregation format: packing user records, and unpacking them strictly.

An aggregated Kinesis record is the magic bytes F3 89 9A C2, a protobuf `AggregatedRecord` (tables of
partition keys and explicit hash keys, then the user records, each naming its keys by index), and the MD5
of that protobuf (format: awslabs/amazon-kinesis-producer, aggregation-format.md). Firehose unpacks such
records before it invokes the Lambda when its source is a Kinesis stream (AWS docs: kpl-with-firehose);
Spark's Kinesis connectors unpack them with the Kinesis Client Library's `UserRecord.deaggregate`.

Packing uses `aws-kinesis-agg`, the Python port of that library, as a Python producer would. Unpacking is
this module's own: that port prints and drops the rest of a record whose key index is out of range, while
here a record is either unpacked whole or not at all. What is not unpacked goes on as one record, as the
Kinesis Client Library does with a bad checksum or a protobuf it cannot parse, and the record contract
fails it with reason `kpl_aggregate` (both paths), its bytes kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from shared import contract as c

MAGIC = c.KPL_MAGIC
DIGEST_BYTES = 16
# The KPL's defaults AggregationMaxSize and RecordMaxBufferedTime (aws/kinesis/core/configuration.h in
# awslabs/amazon-kinesis-producer: aggregation_max_size_ 51200, record_max_buffered_time_ 100).
DEFAULT_MAX_BYTES = 51_200
DEFAULT_MAX_BUFFERED_MS = 100
# protobuf's default recursion limit: deeper nesting is refused as corrupt, never a crash here.
MAX_DEPTH = 100
# Bytes an aggregate adds: the magic and the MD5, then per user record its framing (field tags, lengths, key
# index: 7 to 9 bytes) and, when each record has its own 16-character key, that key in the table (measured
# with `pack`: 24 to 26 bytes a record in all). The cost model takes the distinct-key figure.
AGGREGATE_OVERHEAD_BYTES = len(MAGIC) + DIGEST_BYTES
RECORD_OVERHEAD_BYTES = 26


class KplFormatError(ValueError):
    """Bytes that begin with the KPL magic but cannot be unpacked; `reason` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class UserRecord:
    """One user record of an aggregate, with its place in it (Kinesis's sub-sequence number)."""

    data: bytes
    partition_key: str
    explicit_hash_key: str | None
    subsequence_number: int


def is_aggregate(data: bytes) -> bool:
    """Whether these bytes claim to be an aggregate (they begin with the magic bytes)."""
    return data[: len(MAGIC)] == MAGIC


def _varint(buffer: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(buffer):
            raise KplFormatError("bad_protobuf", "a varint runs past the end")
        byte = buffer[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, position
        shift += 7
        if shift > 63:
            raise KplFormatError("bad_protobuf", "a varint longer than 10 bytes")


def _fields(
    buffer: bytes, position: int = 0, group: int | None = None, depth: int = 0
) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of a protobuf message, for the caller to pick from (the rest, as
    protobuf does, is skipped); groups are skipped whole."""
    while position < len(buffer):
        key, position = _varint(buffer, position)
        number, wire = key >> 3, key & 7
        if not 0 < number < 1 << 29:
            raise KplFormatError("bad_protobuf", f"field number {number} is outside 1..2^29-1")
        if wire == 4:
            if number != group:
                raise KplFormatError("bad_protobuf", f"an end-group tag for field {number} without its start")
            yield number, wire, position
            return
        if wire == 3:
            if depth >= MAX_DEPTH:
                raise KplFormatError("bad_protobuf", f"groups nested deeper than {MAX_DEPTH}")
            end = None
            for inner_number, inner_wire, value in _fields(buffer, position, number, depth + 1):
                if inner_wire == 4 and inner_number == number:
                    end = int(value)
            if end is None:
                raise KplFormatError("bad_protobuf", f"group {number} is not closed")
            position = end
            continue
        if wire == 0:
            value, position = _varint(buffer, position)
        elif wire == 2:
            length, position = _varint(buffer, position)
            if position + length > len(buffer):
                raise KplFormatError("bad_protobuf", f"field {number} runs past the end")
            value, position = buffer[position : position + length], position + length
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if position + width > len(buffer):
                raise KplFormatError("bad_protobuf", f"field {number} runs past the end")
            value, position = int.from_bytes(buffer[position : position + width], "little"), position + width
        else:
            raise KplFormatError("bad_protobuf", f"wire type {wire} of field {number} is not supported")
        yield number, wire, value
    if group is not None:
        raise KplFormatError("bad_protobuf", f"group {group} is not closed")


def _text(value: bytes) -> str:
    # proto2 strings are not checked for UTF-8 when read (the protobuf library hands such a key back as
    # bytes, Java's decodes it with replacement characters): a key is metadata, so it is read the Java way.
    return value.decode("utf-8", errors="replace")


def _has_key(tag: bytes) -> bool:
    """Whether a Tag message holds its required key (field 1), as protobuf checks."""
    return any(number == 1 and wire == 2 for number, wire, _ in _fields(tag))


def _record(buffer: bytes, number: int) -> tuple[int, int | None, bytes]:
    key_index = hash_index = data = None
    for field_number, wire, value in _fields(buffer):
        if field_number == 1 and wire == 0:
            key_index = value
        elif field_number == 2 and wire == 0:
            hash_index = value
        elif field_number == 3 and wire == 2:
            data = value
        elif field_number == 4 and wire == 2 and not _has_key(bytes(value)):
            raise KplFormatError("bad_protobuf", f"a tag of user record {number} lacks its key")
    if key_index is None or data is None:
        raise KplFormatError("bad_protobuf", f"user record {number} lacks its partition key index or its data")
    return int(key_index), None if hash_index is None else int(hash_index), bytes(data)


def unpack(data: bytes) -> list[UserRecord]:
    """The user records of an aggregate, in order; `KplFormatError` when it is malformed.

    Malformed: too short for a checksum, a checksum that does not match (truncated or altered bytes), a
    protobuf that does not parse or lacks required fields, a key index outside its table, or no records.
    The protobuf is read by hand (the format's three messages), as protobuf reads it: unknown fields skipped.
    """
    if not is_aggregate(data):
        raise KplFormatError("bad_magic", "the record does not begin with the KPL magic bytes F3 89 9A C2")
    body = data[len(MAGIC) :]
    if len(body) <= DIGEST_BYTES:
        raise KplFormatError("truncated", f"{len(data)} bytes: too short for a protobuf and its MD5")
    message, digest = body[:-DIGEST_BYTES], body[-DIGEST_BYTES:]
    if hashlib.md5(message).digest() != digest:
        raise KplFormatError("bad_checksum", "the MD5 trailer does not match the protobuf (truncated or altered)")
    keys: list[str] = []
    hash_keys: list[str] = []
    raw_records: list[bytes] = []
    for number, wire, value in _fields(message):
        if wire != 2:
            continue
        if number == 1:
            keys.append(_text(value))
        elif number == 2:
            hash_keys.append(_text(value))
        elif number == 3:
            raw_records.append(bytes(value))
    records = []
    for number, raw in enumerate(raw_records):
        key_index, hash_index, payload = _record(raw, number)
        if key_index >= len(keys):
            raise KplFormatError("bad_index", f"user record {number} names partition key {key_index} of {len(keys)}")
        if hash_index is not None and hash_index >= len(hash_keys):
            raise KplFormatError(
                "bad_index", f"user record {number} names explicit hash key {hash_index} of {len(hash_keys)}"
            )
        hash_key = None if hash_index is None else hash_keys[hash_index]
        records.append(UserRecord(payload, keys[key_index], hash_key, number))
    if not records:
        raise KplFormatError("empty", "the aggregate holds no user records")
    return records


def user_records(data: bytes, partition_key: str, enabled: bool = True) -> tuple[list[UserRecord], str | None]:
    """What a de-aggregating consumer hands on for one Kinesis record, and why it was not unpacked.

    Not an aggregate (or `enabled` false): the record itself. A malformed aggregate: the record itself
    and the reason, for the caller to count. Otherwise its user records.
    """
    if enabled and is_aggregate(data):
        try:
            return unpack(data), None
        except KplFormatError as error:
            return [UserRecord(data, partition_key, None, 0)], error.reason
    return [UserRecord(data, partition_key, None, 0)], None


@dataclass(frozen=True)
class Packed:
    """One Kinesis record a packing producer sends: an aggregate of `count` user records, or one record as is."""

    partition_key: str
    data: bytes
    count: int
    aggregated: bool


def pack(records: Iterable[tuple[str, bytes]], max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Packed]:
    """The Kinesis records that carry `(partition_key, data)` user records, in order. The caller passes
    records bound for one shard only, as the KPL aggregates (comparison.producer.units).

    Each aggregate is at most `max_bytes` and takes its first record's partition key (the KPL also sets
    an explicit hash key so that an aggregate goes to the shard of its first record: here Kinesis hashes
    that partition key, which lands in the same place). A record too large for an aggregate goes alone,
    not aggregated, as the KPL sends it; so does a record left alone in its aggregate.
    """
    from aws_kinesis_agg.aggregator import AggRecord

    current = AggRecord(max_size=max_bytes)
    for partition_key, data in records:
        if _add(current, partition_key, data):
            continue
        if current.get_num_user_records():
            yield _contents(current)
            current = AggRecord(max_size=max_bytes)
            if _add(current, partition_key, data):
                continue
        # Too large to share an aggregate even with nothing else in it.
        yield Packed(partition_key, data, 1, False)
    if current.get_num_user_records():
        yield _contents(current)


def _add(aggregate, partition_key: str, data: bytes) -> bool:
    # The package raises for a record over the size limit, and refuses one just under it without raising.
    try:
        return bool(aggregate.add_user_record(partition_key, data))
    except ValueError:
        return False


def _contents(aggregate) -> Packed:
    partition_key, _, data = aggregate.get_contents()
    if aggregate.get_num_user_records() == 1:
        # The KPL sends an aggregate of one as the plain record (kinesis_record.cc, serialize).
        return Packed(partition_key, aggregate.agg_record.records[0].data, 1, False)
    return Packed(partition_key, data, aggregate.get_num_user_records(), True)
