"""The report's accounting on hand-made inputs: a record counts as accounted only where a sink shows it."""

from __future__ import annotations

import base64

from comparison.report import _account_firehose, _account_glue
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
    assert _account_firehose(ROWS, STATUSES, curated, errors, {("shard-0", "4")}) == {
        "unaccounted": 0,
        "extra_copies": 0,
    }
    # Another record's drop does not account for this heartbeat.
    assert _account_firehose(ROWS, STATUSES, curated, errors, {("shard-0", "9")})["unaccounted"] == 1
