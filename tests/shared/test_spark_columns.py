"""The contract as native Spark expressions (the alternative `make bench` measures) against the same hand-written
cases."""

from __future__ import annotations

import pytest

from shared import contract as c
from tests.shared.cases import CASES, EXPECTED_RECORDS

pytestmark = [pytest.mark.spark, pytest.mark.glue_compat]


@pytest.fixture(scope="module")
def verdicts(spark):
    from shared.spark_columns import apply_contract

    rows = [(i, data, arrival) for i, (_, data, arrival, *_rest) in enumerate(CASES)]
    df = spark.createDataFrame(rows, "id int, data binary, arrival_ms long")
    return {row["id"]: row.asDict() for row in apply_contract(df).collect()}


@pytest.mark.parametrize(("index", "case"), list(enumerate(CASES)), ids=[case[0] for case in CASES])
def test_case(verdicts, index, case):
    name, _data, _arrival, status, reason, field = case
    row = verdicts[index]
    assert (row["status"], row["reason"], row["reason_field"]) == (status, reason, field)
    if status == c.FAILED:
        assert all(row[key] is None for key in c.CURATED_FIELD_NAMES)
    for key, value in EXPECTED_RECORDS.get(name, {}).items():
        assert row[key] == value, key


def test_no_python_udf_in_the_plan(spark):
    from shared.spark_columns import apply_contract

    df = spark.createDataFrame([(b"{}", 0)], "data binary, arrival_ms long")
    plan = apply_contract(df)._jdf.queryExecution().executedPlan().toString()
    assert "BatchEvalPython" not in plan and "ArrowEvalPython" not in plan
