"""KPL aggregation: packing with the aws-kinesis-agg package, strict unpacking, and malformed aggregates."""

from __future__ import annotations

import base64
import hashlib

import pytest
from aws_kinesis_agg import deaggregator, messages_pb2
from hypothesis import given
from hypothesis import strategies as st

from comparison import kpl

records = st.lists(
    st.tuples(st.text(min_size=1, max_size=20), st.binary(min_size=0, max_size=3_000)), min_size=1, max_size=60
)


def unpacked(packed: list[kpl.Packed]) -> list[tuple[str, bytes]]:
    out = []
    for record in packed:
        users = (
            kpl.unpack(record.data)
            if record.aggregated
            else [kpl.UserRecord(record.data, record.partition_key, None, 0)]
        )
        out.extend((user.partition_key, user.data) for user in users)
    return out


def frame(message: messages_pb2.AggregatedRecord | bytes) -> bytes:
    body = message if isinstance(message, bytes) else message.SerializeToString()
    return kpl.MAGIC + body + hashlib.md5(body).digest()


@given(records)
def test_packing_then_unpacking_gives_the_records_back_in_order(given_records):
    packed = list(kpl.pack(given_records, max_bytes=8_000))
    assert unpacked(packed) == given_records
    assert sum(p.count for p in packed) == len(given_records)
    assert all(len(p.data) <= 8_000 for p in packed if p.aggregated)


@given(records)
def test_the_package_deaggregator_reads_what_we_pack(given_records):
    # An independent reader of the format: the aws-kinesis-agg package's own de-aggregation.
    read = []
    for packed in kpl.pack(given_records, max_bytes=8_000):
        kinesis = {"sequenceNumber": "1", "partitionKey": packed.partition_key, "approximateArrivalTimestamp": 0}
        record = {"kinesis": {**kinesis, "kinesisSchemaVersion": "1.0", "data": base64.b64encode(packed.data)}}
        for user in deaggregator.deaggregate_records([record]):
            read.append((user["kinesis"]["partitionKey"], base64.b64decode(user["kinesis"]["data"])))
    assert read == given_records


def test_sub_sequence_numbers_count_from_zero_within_each_aggregate():
    packed = list(kpl.pack([(f"k{i}", b"{}") for i in range(5)]))
    assert len(packed) == 1 and packed[0].aggregated
    assert [u.subsequence_number for u in kpl.unpack(packed[0].data)] == [0, 1, 2, 3, 4]


def test_a_record_too_large_for_an_aggregate_and_a_lone_record_go_as_they_are():
    big = b"x" * 60_000
    packed = list(kpl.pack([("a", b"1"), ("b", b"2"), ("big", big), ("c", b"3")]))
    assert [(p.count, p.aggregated) for p in packed] == [(2, True), (1, False), (1, False)]
    assert packed[1].data == big and packed[2].data == b"3"


def test_a_record_just_too_large_to_share_an_aggregate_is_neither_lost_nor_misplaced():
    # The package refuses, without raising, a record within 20 bytes of the limit even in an empty aggregate.
    records = [("a", b"a" * 10), ("k", b"x" * 51_170), ("b", b"b" * 10), ("c", b"c" * 10)]
    packed = list(kpl.pack(records))
    assert unpacked(packed) == records
    assert all(p.count >= 1 and p.partition_key for p in packed)


def test_a_varint_beyond_64_bits_is_cut_as_protobuf_cuts_it():
    # Key index written as 2^64: protobuf keeps the low 64 bits, 0.
    record = b"\x08" + b"\x80" * 9 + b"\x02" + b"\x1a\x01z"
    body = b"\x0a\x01k\x1a" + bytes([len(record)]) + record + b"\x0a\x01j\x1a\x04\x08\x01\x1a\x00"
    assert [(u.data, u.partition_key) for u in kpl.unpack(frame(body))] == [(b"z", "k"), (b"", "j")]


def test_explicit_hash_keys_are_read_back():
    message = messages_pb2.AggregatedRecord()
    message.partition_key_table.append("pk")
    message.explicit_hash_key_table.append("12345")
    message.records.add(partition_key_index=0, explicit_hash_key_index=0, data=b"a")
    message.records.add(partition_key_index=0, data=b"b")
    users = kpl.unpack(frame(message))
    assert [(u.data, u.explicit_hash_key) for u in users] == [(b"a", "12345"), (b"b", None)]


def _valid() -> bytes:
    return next(kpl.pack([("a", b'{"n":1}'), ("b", b'{"n":2}')])).data


def _bad_index() -> bytes:
    message = messages_pb2.AggregatedRecord()
    message.partition_key_table.append("pk")
    message.records.add(partition_key_index=0, data=b"ok")
    message.records.add(partition_key_index=3, data=b"lost?")
    return frame(message)


def _bad_hash_key_index() -> bytes:
    message = messages_pb2.AggregatedRecord()
    message.partition_key_table.append("pk")
    message.records.add(partition_key_index=0, explicit_hash_key_index=1, data=b"x")
    return frame(message)


def _missing_data() -> bytes:
    # Field 3 of Record (data) is required: a Record holding only its partition key index.
    record = bytes([0x08, 0x00])
    body = bytes([0x0A, 0x02]) + b"pk" + bytes([0x1A, len(record)]) + record
    return frame(body)


MALFORMED = [
    ("magic only", lambda: kpl.MAGIC, "truncated"),
    ("magic and a short body", lambda: kpl.MAGIC + b"\x00" * 16, "truncated"),
    ("truncated", lambda: _valid()[:-5], "bad_checksum"),
    ("a byte altered", lambda: _valid()[:8] + bytes([_valid()[8] ^ 0xFF]) + _valid()[9:], "bad_checksum"),
    ("checksum right, protobuf garbage", lambda: frame(b"\xff\xff\xff\xff"), "bad_protobuf"),
    ("a required field missing", _missing_data, "bad_protobuf"),
    ("partition key index out of range", _bad_index, "bad_index"),
    ("explicit hash key index out of range", _bad_hash_key_index, "bad_index"),
    ("no records", lambda: frame(messages_pb2.AggregatedRecord(partition_key_table=["pk"])), "empty"),
    ("groups nested too deep", lambda: frame(b"\x2b" * 1000 + b"\x2c" * 1000), "bad_protobuf"),
    ("a tag without its key", lambda: frame(b"\x0a\x01k\x1a\x06\x08\x00\x1a\x00\x22\x00"), "bad_protobuf"),
]


@pytest.mark.parametrize(("name", "build", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_aggregate_is_refused_with_its_reason_and_handed_on_whole(name, build, reason):
    data = build()
    with pytest.raises(kpl.KplFormatError) as refused:
        kpl.unpack(data)
    assert refused.value.reason == reason
    users, why = kpl.user_records(data, "pk")
    assert why == reason
    assert [(u.data, u.partition_key) for u in users] == [(data, "pk")]


def test_bytes_without_the_magic_are_not_an_aggregate():
    assert kpl.user_records(b'{"a":1}', "pk") == ([kpl.UserRecord(b'{"a":1}', "pk", None, 0)], None)
    with pytest.raises(kpl.KplFormatError, match="bad_magic"):
        kpl.unpack(b'{"a":1}')


def test_unpacking_can_be_switched_off():
    data = _valid()
    users, why = kpl.user_records(data, "pk", enabled=False)
    assert why is None and [u.data for u in users] == [data]


def _protobuf_reading(body: bytes):
    """What the protobuf library reads from a checksummed body: the records, or None if it refuses it."""
    from google.protobuf.message import DecodeError

    message = messages_pb2.AggregatedRecord()
    try:
        message.ParseFromString(body)
        if not message.IsInitialized():
            return None
        # A key that is not UTF-8 comes back as bytes: read it as Java does, with replacement characters.
        keys, hash_keys = (
            [k.decode("utf-8", "replace") if isinstance(k, bytes) else k for k in table]
            for table in (message.partition_key_table, message.explicit_hash_key_table)
        )
        out = []
        for record in message.records:
            if record.partition_key_index >= len(keys):
                return None
            has_hash = record.HasField("explicit_hash_key_index")
            if has_hash and record.explicit_hash_key_index >= len(hash_keys):
                return None
            hash_key = hash_keys[record.explicit_hash_key_index] if has_hash else None
            out.append((bytes(record.data), keys[record.partition_key_index], hash_key))
        return out or None
    except (DecodeError, UnicodeDecodeError):
        return None


protobuf_pieces = st.lists(
    st.one_of(
        st.binary(max_size=12),
        # Well-formed pieces, so that the bodies often parse: a key, a record, an unknown field.
        st.text(max_size=5).map(lambda k: b"\x0a" + bytes([len(k.encode())]) + k.encode()),
        st.binary(max_size=5).map(lambda d: b"\x1a" + bytes([len(d) + 4]) + b"\x08\x00\x1a" + bytes([len(d)]) + d),
        st.just(b"\x20\x07"),
        # A record with a tag (with or without its key), and a group to skip.
        st.sampled_from(
            [
                b"\x1a\x0a\x08\x00\x1a\x00\x22\x04\x0a\x01t\x12\x00",
                b"\x1a\x06\x08\x00\x1a\x00\x22\x00",
                b"\x2b\x08\x01\x2c",
                b"\x2b\x2b\x2c\x2c",
            ]
        ),
    ),
    max_size=6,
).map(b"".join)


@given(protobuf_pieces)
def test_the_hand_written_reader_agrees_with_the_protobuf_library(body):
    expected = _protobuf_reading(body)
    try:
        got = [(u.data, u.partition_key, u.explicit_hash_key) for u in kpl.unpack(frame(body))]
    except kpl.KplFormatError:
        got = None
    assert got == expected
