"""template.yaml read, expanded and scanned offline: no AWS account, no network beyond 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
BIN = ROOT / ".venv" / "bin"


def offline_env(**extra: str) -> dict[str, str]:
    """Environment for the AWS tools: a region, dummy credentials, no telemetry, no profile or config file."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        SAM_CLI_TELEMETRY="0",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.update(extra)
    return env


def local_code_to_s3(body: dict) -> dict:
    """SAM resources' local CodeUri/ContentUri replaced by placeholder S3 URIs, as `sam validate` does."""
    for resource in body.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = f"s3://placeholder-bucket/{properties[key].strip('/')}"
    return body


class _NoManagedPolicies:
    """The translator's managed-policy loader: no AWS here, and the template names no managed policy."""

    def load(self) -> dict[str, str]:
        return {}


def expand(template_text: str) -> dict:
    """The CloudFormation template that aws-sam-translator makes of a SAM template."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    previous = os.environ.get("AWS_DEFAULT_REGION")
    # The translator asks boto3 for the region of its pseudo parameters.
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        return transform(local_code_to_s3(yaml_parse(template_text)), {}, _NoManagedPolicies())
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous


@pytest.fixture(scope="session")
def expanded() -> dict:
    """template.yaml expanded by aws-sam-translator."""
    return expand(TEMPLATE.read_text())


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory) -> Path:
    """The deployable part of the project (what `sam build` reads), copied to a scratch folder."""
    copy = tmp_path_factory.mktemp("project")
    for name in ("template.yaml", "samconfig.toml"):
        shutil.copy2(ROOT / name, copy / name)
    for folder in ("shared", "firehose_transform", "glue_streaming", "deploy"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy
