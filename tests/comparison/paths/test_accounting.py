"""Each path's accounting on hand-made inputs: a record counts as accounted only where a sink shows it."""

from __future__ import annotations

import base64

from comparison import kpl
from comparison.paths.firehose_lambda import account_records as _account_firehose
from comparison.paths.kinesis_glue import account_records as _account_glue
from shared import contract as c


def row(event_id, data, position):
    return {"event_id": event_id, "data": data, "shard_id": "shard-0", "sequence_number": position}


ROWS = [
    row("e1", b"one", "1"),
    row("e1", b"one", "2"),  # a re-sent copy
    row("e2", b"two", "3"),
    row("hb", b"beat", "4"),
    row(None, b"bad", "5"),
]
STATUSES = [c.OK, c.OK, c.OK, c.DROPPED, c.FAILED]


def glue_outputs(curated=("e1", "e2")):
    return {
        "curated": [{"event_id": e} for e in curated],
        "late": [],
        "quarantine": [{"data_base64": base64.b64encode(b"bad").decode()}],
        "dropped": [{"event_id": "hb"}],
    }


def test_glue_counts_a_removed_copy_only_if_the_job_read_it():
    # The job read all five records: four rows written, one valid copy removed.
    assert _account_glue(ROWS, STATUSES, glue_outputs(), records_read=5) == (0, 1)
    # The job read four: the re-sent copy never reached it, so it is not removed but unaccounted.
    assert _account_glue(ROWS, STATUSES, glue_outputs(), records_read=4) == (1, 0)


def test_glue_an_event_missing_from_every_output_is_unaccounted():
    assert _account_glue(ROWS, STATUSES, glue_outputs(curated=("e1",)), records_read=5)[0] == 1


def test_firehose_a_drop_counts_only_for_the_record_the_simulator_dropped():
    curated = [{"event_id": "e1"}, {"event_id": "e1"}, {"event_id": "e2"}]
    errors = [{"rawData": base64.b64encode(b"bad").decode()}]
    assert _account_firehose(ROWS, STATUSES, curated, errors, {("shard-0", "4", 0)}) == {
        "unaccounted": 0,
        "extra_copies": 0,
    }
    # Another record's drop does not account for this heartbeat.
    assert _account_firehose(ROWS, STATUSES, curated, errors, {("shard-0", "9", 0)})["unaccounted"] == 1


AGGREGATED = [
    {**row("a1", b'{"a":1}', "7"), "subsequence_number": 0},
    {**row("hb2", b'{"hb":2}', "7"), "subsequence_number": 1},
    {**row("a3", b'{"a":3}', "7"), "subsequence_number": 2},
]
AGGREGATED_STATUSES = [c.OK, c.DROPPED, c.OK]


def test_firehose_a_drop_inside_an_aggregate_is_matched_by_its_sub_sequence_number():
    curated = [{"event_id": "a1"}, {"event_id": "a3"}]
    assert _account_firehose(AGGREGATED, AGGREGATED_STATUSES, curated, [], {("shard-0", "7", 1)})["unaccounted"] == 0
    # The aggregate's first record was not the one dropped.
    assert _account_firehose(AGGREGATED, AGGREGATED_STATUSES, curated, [], {("shard-0", "7", 0)})["unaccounted"] == 1


def aggregate_of(rows) -> bytes:
    packed = list(kpl.pack((r["event_id"], r["data"]) for r in rows))
    assert len(packed) == 1 and packed[0].aggregated
    return packed[0].data


def test_an_aggregate_that_failed_whole_accounts_for_each_record_it_carries():
    whole = base64.b64encode(aggregate_of(AGGREGATED)).decode()
    assert _account_firehose(AGGREGATED, AGGREGATED_STATUSES, [], [{"rawData": whole}], set())["unaccounted"] == 0
    outputs = {"curated": [], "late": [], "dropped": [], "quarantine": [{"data_base64": whole}]}
    assert _account_glue(AGGREGATED, AGGREGATED_STATUSES, outputs, records_read=1) == (0, 0)
    # Without the aggregate in the sink, none of its records is accounted for.
    assert _account_glue(AGGREGATED, AGGREGATED_STATUSES, {**outputs, "quarantine": []}, records_read=1)[0] == 3


def test_firehose_on_aws_drops_count_up_to_what_the_function_reported():
    curated = [{"event_id": "e1"}, {"event_id": "e1"}, {"event_id": "e2"}]
    errors = [{"rawData": base64.b64encode(b"bad").decode()}]
    # No timelines on AWS: the heartbeat is accounted by the function's RecordsDropped count.
    assert _account_firehose(ROWS, STATUSES, curated, errors, None, dropped_reported=1)["unaccounted"] == 0
    assert _account_firehose(ROWS, STATUSES, curated, errors, None, dropped_reported=0)["unaccounted"] == 1
