"""Fixtures shared by every test: one SparkSession per test process, and hypothesis profiles.

This file is also loaded by the Glue 4.0 compatibility suite (Python 3.10, PySpark 3.3.0, no boto3),
so it imports nothing beyond PySpark and hypothesis at module level.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Lambda's environment for the Firehose handler, set before any test module imports it (Powertools reads it
# then), whichever folder's tests are collected first.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "firehose-transform")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EtlShowdown")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

# Checked-in hypothesis settings: derandomized in CI so a red build is reproducible; a developer can
# select "explore" (HYPOTHESIS_PROFILE=explore) to search with fresh seeds.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore",
    derandomize=False,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def spark():
    """The one SparkSession of this test process."""
    from comparison.local.spark import build_spark_session

    # A zone far from UTC proves that nothing in the contract or the pipeline depends on it.
    session = build_spark_session("tests", extra={"spark.sql.session.timeZone": "Asia/Seoul"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def moto_server():
    """One moto server on 127.0.0.1 for the test session (S3, and Kinesis for small tests)."""
    from comparison.local.servers import MotoServer

    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def kinesalite():
    """One kinesalite (local Kinesis with real 56-digit sequence numbers) for the test session."""
    from comparison.local.servers import Kinesalite

    with Kinesalite() as server:
        yield server


@pytest.fixture
def unique_name(request):
    """A stream or bucket name unique to this test."""
    import re
    import uuid

    base = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:30].strip("-")
    return f"{base}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def sam_build(tmp_path_factory):
    """`sam build` of template.yaml (no container), once per session: the build folder."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    build_dir = tmp_path_factory.mktemp("sam-build")
    subprocess.run(
        [
            str(root / ".venv" / "bin" / "sam"),
            "build",
            "--build-dir",
            str(build_dir),
            "--template-file",
            "template.yaml",
        ],
        cwd=root,
        check=True,
        capture_output=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )
    return build_dir
