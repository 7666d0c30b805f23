"""The function Glue's `forEachBatch` hands Spark for a job's batch function (awslabs/aws-glue-libs,
awsglue/context.py): plain PySpark, so that the Glue compatibility suites run it on every Glue version's Spark.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark import StorageLevel
from pyspark.sql import DataFrame


def glue_batch_function(
    batch_function: Callable[[DataFrame, int], None],
    persist: bool = True,
    level: StorageLevel = StorageLevel.MEMORY_AND_DISK,
) -> Callable[[DataFrame, int], None]:
    """What `forEachBatch` hands Spark for `batch_function`: with `persist`, each micro-batch is persisted
    at `level` and counted (which computes it), and `batch_function` called on the persisted batch when it
    has rows; without, it is called when `take(1)` finds a row."""

    def wrapper(batch: DataFrame, batch_id: int) -> None:
        if not persist:
            if batch.take(1):
                batch_function(batch, batch_id)
            return
        batch.persist(level)
        try:
            if batch.count() > 0:
                batch_function(batch, batch_id)
        finally:
            batch.unpersist()

    return wrapper
