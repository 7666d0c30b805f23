"""The local SparkSession: what the tests, the benchmarks and the local Glue runner start."""

from __future__ import annotations

import os
import sys


def build_spark_session(app_name: str, master: str = "local[2]", extra: dict[str, str] | None = None):
    """A SparkSession bound to 127.0.0.1, with no UI, sized for a small machine.

    `master` can be any Spark master URL: the same code scales out on a cluster.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from shared.spark_columns import SESSION_SETTINGS

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.streaming.stopGracefullyOnShutdown", "true")
    )
    for key, value in {**SESSION_SETTINGS, **(extra or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
