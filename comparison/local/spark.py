"""The local SparkSession: what the tests, the benchmarks and the local Glue runner start."""

from __future__ import annotations

import os
import sys

# Without libhadoop the local file system forks `readlink` four times for each file a FileContext renames (and four
# more for its .crc), which is how Spark's default checkpoint manager commits offsets, commits and state-store
# files; the FileSystem-based manager renames with one rename(2), as atomically. Local disk only (Glue checkpoints
# to S3), so it is set here, not in the job's settings. Spark 4.1 moved the class.
CHECKPOINT_MANAGER = "org.apache.spark.sql.execution.streaming.{}FileSystemBasedCheckpointFileManager"


def checkpoint_manager(spark_version: str) -> str:
    """The FileSystem-based checkpoint manager's class name in this Spark version."""
    major, minor = (int(part) for part in spark_version.split(".")[:2])
    return CHECKPOINT_MANAGER.format("checkpointing." if (major, minor) >= (4, 1) else "")


def build_spark_session(app_name: str, master: str = "local[2]", extra: dict[str, str] | None = None):
    """A SparkSession bound to 127.0.0.1, with no UI, sized for a small machine, set as the Glue job sets its own.

    `master` can be any Spark master URL: the same code scales out on a cluster.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    import pyspark
    from pyspark.sql import SparkSession

    from glue_streaming.pipeline import SPARK_SETTINGS, STARTUP_SETTINGS

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        # In local mode the driver's JVM runs the tasks too: Spark's default 1 GB heap ran out on a micro-batch of
        # 60,000 records in `make bench` (a G.025X Glue worker has 4 GB).
        .config("spark.driver.memory", "4g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.streaming.stopGracefullyOnShutdown", "true")
        .config("spark.sql.streaming.checkpointFileManagerClass", checkpoint_manager(pyspark.__version__))
    )
    for key, value in {**STARTUP_SETTINGS, **SPARK_SETTINGS, **(extra or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
