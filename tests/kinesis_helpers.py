"""Reading a whole Kinesis stream back, for assertions."""

from __future__ import annotations


def read_stream(kinesis, stream: str) -> dict[str, list[dict]]:
    """Every record of every shard, in shard order, read from TRIM_HORIZON until caught up."""
    records: dict[str, list[dict]] = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        shard_id = shard["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        records[shard_id] = []
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            records[shard_id].extend(page["Records"])
            # kinesalite reports no lag even with data ahead; an empty page with no lag is the end.
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return records
