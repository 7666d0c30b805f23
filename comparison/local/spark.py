"""The local SparkSession: what the tests, the benchmarks and the local Glue runner start."""

from __future__ import annotations

import os
import sys


def build_spark_session(app_name: str, master: str = "local[2]", extra: dict[str, str] | None = None):
    """A SparkSession bound to 127.0.0.1, with no UI, sized for a small machine, set as the Glue job sets its own.

    `master` can be any Spark master URL: the same code scales out on a cluster.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
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
    )
    for key, value in {**STARTUP_SETTINGS, **SPARK_SETTINGS, **(extra or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
