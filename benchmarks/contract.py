"""The shared contract's two implementations against their naive alternatives.

- Python: `shared.record.curate` + orjson against the same logic parsed and written with stdlib json.
- Spark: the native expressions of `shared.spark_columns` against a Python UDF running
  `shared.record.curate` on the same DataFrame (the Lambda's code, as the Glue job runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

import orjson

from benchmarks.harness import Row, best_of
from comparison.workload import WorkloadConfig, generate
from shared import contract as c
from shared.record import curate, curate_document

START = 1_764_288_000_000


def workload(count: int) -> list[tuple[bytes, int]]:
    """Realistic raw records (the run's workload, faults included) with their arrival times."""
    config = WorkloadConfig(rate=1000, duration_s=count / 1000)
    return [(e.payload(e.scheduled_ms), e.scheduled_ms + 200) for e in generate(config, START)]


def stdlib_document(data: bytes) -> tuple[dict | None, str | None]:
    """(document, None) parsed with the standard library's json, or (None, the reason it is refused).

    Checks UTF-8, JSON syntax and that the root is an object; the contract's other document rules (size,
    brackets, lone surrogates, NaN literals) are what the stdlib baselines leave out.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, c.NOT_UTF8
    try:
        doc = json.loads(text)
    except ValueError:
        return None, c.NOT_JSON
    return (doc, None) if isinstance(doc, dict) else (None, c.NOT_OBJECT)


def stdlib_transform(data: bytes, arrival_ms: int) -> bytes | None:
    """The same logic with the standard library's json: decode, json.loads, transform, json.dumps."""
    doc, _ = stdlib_document(data)
    if doc is None:
        return None
    outcome = curate_document(doc, arrival_ms)
    return json.dumps(outcome.record).encode() + b"\n" if outcome.record else None


def fast_transform(data: bytes, arrival_ms: int) -> bytes | None:
    """The Lambda's per-record work: the contract and orjson."""
    outcome = curate(data, arrival_ms)
    return orjson.dumps(outcome.record) + b"\n" if outcome.record else None


def python_rows(count: int = 60_000) -> list[Row]:
    """Records per second of the per-record transform, orjson against stdlib json."""
    records = workload(count)
    rows = []
    for variant, transform in (("stdlib json", stdlib_transform), ("shared.record + orjson", fast_transform)):
        for data, arrival in records[:2000]:
            transform(data, arrival)
        seconds = best_of(5, lambda transform=transform: [transform(d, a) for d, a in records])
        rows.append(
            Row(
                "python contract",
                variant,
                len(records),
                seconds,
                baseline=None if variant == "stdlib json" else "stdlib json",
            )
        )
    return rows


BASELINE = "python UDF, shared.record (orjson)"


def spark_variants(df) -> dict:
    """The three Spark transforms of `df` (`data` binary, `arrival_ms`), each as a DataFrame with the
    same columns: the input's, then the verdict and the curated fields, as `apply_contract` adds them
    (the Glue pipeline keeps `data` for quarantine). The UDFs do the same work, in Python."""
    from pyspark.sql import functions as F

    from glue_streaming import pipeline
    from shared.spark_columns import apply_contract

    # No type hints on the UDF body: PySpark 4 reads them to pick an Arrow evaluation type.
    def stdlib_udf_body(data, arrival_ms):
        # The contract over the standard library's json with fewer document checks: a lower bound for it.
        doc, reason = stdlib_document(bytes(data))
        if doc is None:
            return (c.FAILED, reason, None, *[None] * len(c.CURATED_FIELD_NAMES))
        return pipeline.outcome_row(curate_document(doc, arrival_ms))

    def with_udf(body):
        udf = F.udf(body, pipeline.CONTRACT_SCHEMA)
        return df.select(*df.columns, udf("data", "arrival_ms").alias("_verdict")).select(*df.columns, "_verdict.*")

    return {
        BASELINE: lambda: with_udf(pipeline.verdict),
        "python UDF, stdlib json": lambda: with_udf(stdlib_udf_body),
        "native expressions": lambda: apply_contract(df),
    }


def spark_rows(spark, count: int = 300_000) -> list[Row]:
    """Rows per second of the Spark transform: native expressions against a Python UDF, same DataFrame."""
    folder, df = _parquet_input(spark, count)
    rows_in = df.count()
    rows = []
    for variant, build in spark_variants(df).items():
        # Each timed run optimises and plans the query again, as a streaming query does every
        # micro-batch. Reported apart: the first build and plan, and the execution alone of the
        # plan already made (the part that grows with the rows).
        started = time.perf_counter()
        frame = build()
        executed = frame._jdf.queryExecution().toRdd()
        planning = time.perf_counter() - started
        seconds = _noop_seconds(frame)
        execution = best_of(3, executed.count)
        rows.append(
            Row(
                "spark contract",
                variant,
                rows_in,
                seconds,
                unit="rows/s",
                baseline=None if variant == BASELINE else BASELINE,
                extra={"planning_s": round(planning, 2), "execution_s": round(execution, 3)},
            )
        )
    shutil.rmtree(folder, ignore_errors=True)
    return rows


def _parquet_input(spark, count: int):
    """A temporary folder and a DataFrame scanning `count` workload records from Parquet in it."""
    sample = workload(20_000)
    copies = count // len(sample) + 1
    base = spark.createDataFrame(sample, "data binary, arrival_ms long")
    # Every variant scans the same Parquet file (as a job scans its input), not a cache.
    folder = tempfile.mkdtemp(prefix="bench-contract-")
    path = os.path.join(folder, "input.parquet")
    base.crossJoin(spark.range(copies).withColumnRenamed("id", "copy")).limit(count).repartition(2).write.parquet(path)
    return folder, spark.read.parquet(path).select("data", "arrival_ms")


def _noop_seconds(frame) -> float:
    frame.write.format("noop").mode("overwrite").save()
    return best_of(3, lambda: frame.write.format("noop").mode("overwrite").save())


def stage_seconds(spark, count: int = 300_000) -> list[tuple[str, float]]:
    """Where the native contract's time goes: the scan alone, then each projection of
    `contract_stages` up to and including it (each stage's own cost is the difference)."""
    from shared.spark_columns import contract_stages

    folder, df = _parquet_input(spark, count)
    try:
        times = [("scan", _noop_seconds(df))]
        for index, stage in enumerate(contract_stages(df)):
            times.append((f"up to projection {index}", _noop_seconds(stage)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return times


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.contract`: the Spark rows as JSON (run in the Glue 4.0 environment too).

    With `--stages`: the native contract's time projection by projection, as a table.
    """
    import argparse
    from dataclasses import asdict

    from comparison.local.spark import build_spark_session

    parser = argparse.ArgumentParser(prog="python -m benchmarks.contract")
    parser.add_argument("--stages", action="store_true", help="time the native contract projection by projection")
    args = parser.parse_args(argv)
    spark = build_spark_session("benchmarks")
    try:
        if args.stages:
            previous = 0.0
            print(f"Spark {spark.version}, 300,000 rows, noop sink, median of 3 (seconds)")
            for name, seconds in stage_seconds(spark):
                print(f"{name:22s} {seconds:6.3f}  (+{seconds - previous:.3f})")
                previous = seconds
        else:
            rows = spark_rows(spark)
            print(json.dumps({"spark": spark.version, "rows": [asdict(r) for r in rows]}))
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
