"""The local SparkSession's own settings."""

from __future__ import annotations

import pytest

from comparison.local.spark import checkpoint_manager


def test_the_checkpoint_manager_is_named_as_each_spark_version_names_it():
    old = "org.apache.spark.sql.execution.streaming.FileSystemBasedCheckpointFileManager"
    assert checkpoint_manager("3.3.0") == old
    assert checkpoint_manager("3.5.6").endswith("streaming.FileSystemBasedCheckpointFileManager")
    assert checkpoint_manager("4.1.1").endswith("streaming.checkpointing.FileSystemBasedCheckpointFileManager")
    assert checkpoint_manager("4.3.0").endswith("streaming.checkpointing.FileSystemBasedCheckpointFileManager")


@pytest.mark.spark
def test_the_session_uses_a_checkpoint_manager_its_spark_has(spark):
    name = spark.conf.get("spark.sql.streaming.checkpointFileManagerClass")
    assert name == checkpoint_manager(spark.version)
    assert spark.sparkContext._jvm.java.lang.Class.forName(name).getName() == name
