"""`awsglue.context.GlueContext`: the streaming surface the Glue entry uses, on local Spark.

`forEachBatch` follows the public library (awslabs/aws-glue-libs, awsglue/context.py): it requires
`windowSize` and `checkpointLocation`, persists each micro-batch (`persistDataFrame`, `storageLevel`),
skips empty ones, calls the batch function, and restarts a failed query up to `batchMaxRetries` times
(default 3, at most 100) after 1, 2, then 5 seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from comparison.local.glue_stand_in import kinesis
from comparison.local.glue_stand_in.batches import glue_batch_function
from comparison.local.glue_stand_in.runtime import RUNTIME

RETRY_SLEEPS_S = (1, 2, 5)


class DataFrameReader:
    """`glue_context.create_data_frame`: streaming sources as Spark DataFrames."""

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context

    def from_options(
        self,
        connection_type: str,
        connection_options: dict[str, str] | None = None,
        format: str | None = None,
        format_options: dict[str, str] | None = None,
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        **kwargs: Any,
    ) -> DataFrame:
        """A streaming source from connection options (Kinesis only here)."""
        if connection_type != "kinesis":
            raise kinesis.GlueOptionError(f"connection_type {connection_type!r}: the local runtime reads kinesis only")
        read = kinesis.check_options(connection_options or {})
        return kinesis.glue_frame(self._glue_context.spark_session, read)

    def from_catalog(
        self,
        database: str | None = None,
        table_name: str | None = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        additional_options: dict[str, str] | None = None,
        catalog_id: str | None = None,
        **kwargs: Any,
    ) -> DataFrame:
        """A streaming source from a Data Catalog table (its parameters, then `additional_options`)."""
        table = RUNTIME.catalog.get((database or "", table_name or ""))
        if table is None:
            known = ", ".join(f"{d}.{t}" for d, t in sorted(RUNTIME.catalog)) or "none"
            raise kinesis.GlueOptionError(f"no Data Catalog table {database}.{table_name} (tables: {known})")
        if table["parameters"].get("typeOfData") != "kinesis":
            raise kinesis.GlueOptionError(f"table {database}.{table_name} is not a Kinesis stream (typeOfData)")
        options = {**table["parameters"], **(additional_options or {})}
        if str(options.get("inferSchema", "false")).lower() != "true":
            options.setdefault("schema", table["schema"])
        read = kinesis.check_options(options, from_catalog=True)
        return kinesis.glue_frame(self._glue_context.spark_session, read)


class GlueContext:
    """Wraps the SparkContext, as Glue's does."""

    def __init__(self, spark_context: Any, **options: Any) -> None:
        self._sc = spark_context
        self.spark_session = SparkSession.builder.getOrCreate()
        self.create_data_frame = DataFrameReader(self)

    def forEachBatch(
        self, frame: DataFrame, batch_function: Callable[[DataFrame, int], None], options: dict[str, str] | None = None
    ) -> None:
        """Run `frame` as micro-batches of `windowSize`, calling `batch_function(batch, batch_id)` on each
        non-empty one; returns when the job is asked to stop, raises when the query fails past its retries."""
        options = dict(options or {})
        for required in ("windowSize", "checkpointLocation"):
            if required not in options:
                raise Exception(f"Missing {required} argument")
        retries = int(options.get("batchMaxRetries", 3))
        if not 0 <= retries <= 100:
            raise ValueError("Please specify the number of retries as an integer value between 0 and 100")
        persist = str(options.get("persistDataFrame", "true")).lower() != "false"
        level = getattr(StorageLevel, str(options.get("storageLevel", "MEMORY_AND_DISK")).upper())
        wrapper = glue_batch_function(batch_function, persist, level)
        try:
            writer = (
                frame.writeStream.foreachBatch(wrapper)
                .trigger(processingTime=options["windowSize"])
                .option("checkpointLocation", options["checkpointLocation"])
            )
        except Exception as error:  # Spark refuses an interval it cannot parse when the trigger is made.
            raise ValueError(f"forEachBatch windowSize {options['windowSize']!r}: {error}") from None
        attempt = 0
        while not RUNTIME.stopping.is_set():
            query = writer.start()
            RUNTIME.started(query)
            try:
                while query.isActive and not RUNTIME.stopping.is_set():
                    query.awaitTermination(0.5)
                if RUNTIME.stopping.is_set():
                    query.stop()
                    return
            except Exception as error:
                if str(error).startswith("CheckpointMetadataNotFound") or attempt >= retries:
                    raise
                time.sleep(RETRY_SLEEPS_S[min(attempt, len(RETRY_SLEEPS_S) - 1)])
                attempt += 1
