"""Differential test: the Lambda's Python contract and the contract in Spark agree.

Hypothesis generates batches of raw records (valid events, near misses, garbage). Every record goes
through the Python function and through Spark, in both of Spark's forms: the Glue job's (`pipeline.curate`,
a Python UDF over the same function: this checks the UDF's types and conversions) and the native
expressions (`shared.spark_columns`, measured against it by `make bench`); curated outputs must be
identical field by field, and rejected records must be the same records with the same reason codes.
This is the proof that "one transform definition" holds: any difference between the paths comes from
the architecture, not the code.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import contract as c
from shared.record import curate
from tests.shared.strategies import records

pytestmark = [pytest.mark.spark, pytest.mark.glue_compat]

BATCH = 50
EXAMPLES = 60
MINIMUM_EVENTS = 2000


def generated_records(examples: int) -> list[tuple[bytes, int]]:
    """Draw batches with hypothesis (checked-in settings) and pool them for one Spark query."""
    pooled: list[tuple[bytes, int]] = []

    @settings(max_examples=examples)
    @given(st.lists(records(), min_size=BATCH, max_size=BATCH))
    def collect(batch):
        pooled.extend(batch)

    collect()
    return pooled


@pytest.mark.parametrize("form", ["glue job (python UDF)", "native expressions"])
def test_python_and_spark_agree(spark, form):
    from glue_streaming.pipeline import curate as udf_contract
    from shared.spark_columns import apply_contract

    pooled = generated_records(EXAMPLES)
    assert len(pooled) >= MINIMUM_EVENTS
    rows = [(i, data, arrival) for i, (data, arrival) in enumerate(pooled)]
    df = spark.createDataFrame(rows, "id int, data binary, arrival_ms long")
    checked = apply_contract(df) if form == "native expressions" else udf_contract(df)
    spark_rows = {row["id"]: row for row in checked.collect()}

    mismatches = []
    statuses: dict[str, int] = {}
    for i, (data, arrival) in enumerate(pooled):
        expected = curate(data, arrival)
        got = spark_rows[i]
        statuses[expected.status] = statuses.get(expected.status, 0) + 1
        verdict = (got["status"], got["reason"], got["reason_field"])
        if verdict != (expected.status, expected.reason, expected.field):
            mismatches.append((data, arrival, "python", expected[0], expected[2], expected[3], "spark", verdict))
        elif expected.status != c.FAILED and {k: got[k] for k in c.CURATED_FIELD_NAMES} != expected.record:
            mismatches.append((data, arrival, "python", expected.record, "spark", got.asDict()))
    assert not mismatches, f"{len(mismatches)} of {len(pooled)} records differ; first: {mismatches[:5]}"
    # The generator must exercise every outcome in quantity, or agreement proves little.
    assert statuses[c.OK] >= 500 and statuses[c.DROPPED] >= 50 and statuses[c.FAILED] >= 500, statuses


def test_generated_reasons_cover_the_contract():
    """The strategies reach every reason code and every field (checked without Spark)."""
    reasons: set[str] = set()
    fields: set[str] = set()
    for data, arrival in generated_records(EXAMPLES):
        outcome = curate(data, arrival)
        if outcome.reason:
            reasons.add(outcome.reason)
            fields.add(outcome.field)
    assert reasons == set(c.REASONS)
    assert fields - {None} == set(c.RAW_FIELD_NAMES)
