"""The contract benchmark compares like with like: its UDF and native variants give the same rows."""

from __future__ import annotations

from benchmarks.contract import BASELINE, spark_variants, workload


def test_udf_and_native_variants_produce_identical_rows(spark):
    records = workload(3000)
    df = spark.createDataFrame(records, "data binary, arrival_ms long")
    variants = spark_variants(df)
    udf_frame = variants[BASELINE]()
    native_frame = variants["native expressions"]()

    assert udf_frame.columns == native_frame.columns
    udf_rows = sorted(udf_frame.collect(), key=lambda row: (bytes(row.data), row.arrival_ms))
    native_rows = sorted(native_frame.collect(), key=lambda row: (bytes(row.data), row.arrival_ms))
    assert len(udf_rows) == len(records)
    assert {row.status for row in native_rows} == {"ok", "dropped", "failed"}
    assert udf_rows == native_rows
