"""Deploying, up to the point that needs an AWS account: `sam package` against moto's S3, the security scan, and
the README's "Deploy to AWS" commands run as written."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import zipfile
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from comparison.local.servers import client
from deploy.glue_libs import bundle
from tests.template.conftest import BIN, ROOT, TEMPLATE, offline_env

pytestmark = pytest.mark.slow

CHECKOV = ROOT / ".venv-scan" / "bin" / "checkov"


def sam_package(build_dir: Path, moto_endpoint: str, bucket: str, out: Path, cwd: Path) -> dict:
    """`sam package` of a `sam build` output to a moto bucket; the packaged template."""
    result = subprocess.run(
        [
            str(BIN / "sam"),
            "package",
            "--template-file",
            str(build_dir / "template.yaml"),
            "--s3-bucket",
            bucket,
            "--s3-prefix",
            "showdown",
            "--output-template-file",
            str(out),
            "--no-progressbar",
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        # boto3 (inside sam) sends S3 calls to moto; the host contains "localhost" for path-style URLs.
        env=offline_env(AWS_ENDPOINT_URL_S3=moto_endpoint),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return yaml_parse(out.read_text())


def s3_object(s3, uri: str) -> bytes:
    """The bytes of the object at an s3:// URI."""
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def check_packaged(packaged: dict, s3, bucket: str) -> None:
    """Function, layer, Glue script and shared code uploaded, and the packaged template pointing at them."""
    resources = packaged["Resources"]
    uris = {
        "function": resources["FirehoseTransformFunction"]["Properties"]["CodeUri"],
        "layer": next(r for r in resources.values() if r["Type"] == "AWS::Serverless::LayerVersion")["Properties"][
            "ContentUri"
        ],
        "script": resources["GlueStreamingJob"]["Properties"]["Command"]["ScriptLocation"],
        "shared code": resources["GlueLibsPublisherFunction"]["Properties"]["CodeUri"],
    }
    for what, uri in uris.items():
        assert isinstance(uri, str) and uri.startswith(f"s3://{bucket}/"), f"{what}: {uri!r}"
    objects = {what: s3_object(s3, uri) for what, uri in uris.items()}
    assert objects["script"] == (ROOT / "glue_streaming" / "glue_job.py").read_bytes()
    with zipfile.ZipFile(io.BytesIO(objects["layer"])) as layer:
        assert "python/shared/contract.py" in layer.namelist()
    with zipfile.ZipFile(io.BytesIO(objects["function"])) as function:
        assert "app.py" in function.namelist() and not any(n.startswith("shared/") for n in function.namelist())
    # The shared code for Glue: the publisher's bundle holds the libraries zip, `shared` and `glue_streaming` at root.
    with zipfile.ZipFile(io.BytesIO(objects["shared code"])) as publisher:
        assert set(publisher.namelist()) >= {"app.py", "glue-libs.zip"}
        libraries = zipfile.ZipFile(io.BytesIO(publisher.read("glue-libs.zip"))).namelist()
    assert "shared/contract.py" in libraries and "glue_streaming/glue_job.py" in libraries
    assert resources["GlueStreamingJob"]["Properties"]["DefaultArguments"]["--extra-py-files"] == {
        "Fn::GetAtt": ["GlueLibs", "Uri"]
    }


def test_sam_package_uploads_function_layer_glue_script_and_shared_code(sam_build, moto_server, unique_name, tmp_path):
    s3 = client("s3", moto_server.endpoint)
    s3.create_bucket(Bucket=unique_name)
    packaged = sam_package(sam_build, moto_server.endpoint, unique_name, tmp_path / "packaged.yaml", ROOT)
    check_packaged(packaged, s3, unique_name)


def test_the_built_libraries_zip_is_the_one_bundle_makes(sam_build, tmp_path):
    built = (sam_build / "GlueLibsPublisherFunction" / "glue-libs.zip").read_bytes()
    assert built == bundle.build(ROOT, tmp_path / "expected.zip").read_bytes()


def test_the_security_scan_has_no_failed_check_and_every_skip_says_why():
    assert CHECKOV.exists(), "checkov is not installed: run `make setup` (it creates .venv-scan)"
    result = subprocess.run(
        [
            str(CHECKOV),
            "--file",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "--compact",
            "--quiet",
            "--skip-download",
            "--output",
            "cli",
        ],
        capture_output=True,
        text=True,
        env=offline_env(BC_SKIP_MAPPING="TRUE"),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    counts = re.search(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", result.stdout)
    assert counts, result.stdout
    assert int(counts.group(2)) == 0 and int(counts.group(1)) > 0
    body = yaml_parse(TEMPLATE.read_text())
    for logical_id, resource in body["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(str(skip.get("comment", "")).split()) >= 8, f"{logical_id} skips {skip['id']} without a reason"


def readme_deploy_commands() -> list[str]:
    """The first shell block of the README's "Deploy to AWS" section, one command a line."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Deploy to AWS\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no ```bash block in Deploy to AWS"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_deploy_commands_work_as_written_up_to_the_account(project_copy, moto_server, unique_name):
    commands = readme_deploy_commands()
    account_from = next(i for i, c in enumerate(commands) if c.startswith("sam deploy"))
    assert commands[account_from] == "sam deploy --guided"
    for command in commands[:account_from]:
        result = subprocess.run(
            shlex.split(command), capture_output=True, text=True, cwd=project_copy, env=offline_env(), timeout=600
        )
        assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    # What `sam deploy` does before it needs the account: upload the build, here to moto.
    s3 = client("s3", moto_server.endpoint)
    s3.create_bucket(Bucket=unique_name)
    build_dir = project_copy / ".aws-sam" / "build"
    packaged = sam_package(build_dir, moto_server.endpoint, unique_name, project_copy / "packaged.yaml", project_copy)
    check_packaged(packaged, s3, unique_name)
