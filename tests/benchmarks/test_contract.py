"""The contract benchmark compares like with like: its UDF and native variants give the same rows."""

from __future__ import annotations

from benchmarks.contract import BASELINE, spark_variants, stdlib_document, workload
from shared.record import curate


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


def test_the_stdlib_baseline_refuses_documents_with_the_contracts_reasons():
    for data in (b"\xff{}", b"{", b"[1]", b"null", b'"text"'):
        assert stdlib_document(data) == (None, curate(data, 0).reason), data
    assert stdlib_document(b'{"a": 1}') == ({"a": 1}, None)
