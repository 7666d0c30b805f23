"""Reading the Glue job's outputs without Spark: committed batches only, staged files never."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from comparison.glue_outputs import read_outputs


def test_only_committed_batches_count_and_files_a_killed_write_staged_do_not(tmp_path):
    (tmp_path / "_manifests/batch_id=0").mkdir(parents=True)
    (tmp_path / "_manifests/batch_id=0/part-00000.json").write_text(json.dumps({"batch_id": 0}) + "\n")
    partition = "event_date=2026-12-01/event_hour=9/batch_id={}"
    for batch in (0, 1):  # batch 1 has no manifest: interrupted
        folder = tmp_path / "curated" / partition.format(batch)
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"event_id": [f"e{batch}"]}), folder / "part-00000.snappy.parquet")
    # A write killed half way: Spark's staging folders, with a file cut short, under a committed batch's partition.
    for staging in (".spark-staging-1/_temporary/0/_temporary/attempt_1", "_temporary/0"):
        folder = tmp_path / "curated" / staging / partition.format(0)
        folder.mkdir(parents=True)
        (folder / "part-00000.snappy.parquet").write_bytes(b"PAR1 cut short")
    (tmp_path / "late/batch_id=0/_temporary/0").mkdir(parents=True)
    (tmp_path / "late/batch_id=0/_temporary/0/part-00000.json").write_text('{"event_id": "half')
    found = read_outputs(tmp_path)
    assert found["curated"] == [{"event_id": "e0", "event_date": "2026-12-01", "event_hour": 9, "batch_id": 0}]
    assert found["late"] == []
