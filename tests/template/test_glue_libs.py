"""Shipping `shared` and `glue_streaming` to Glue: the zip `sam build` makes, the custom resource that publishes it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from comparison.local.servers import client
from deploy.glue_libs import app, bundle
from tests.template.conftest import ROOT


def test_the_zip_holds_both_packages_at_its_root_and_nothing_else(tmp_path):
    built = bundle.build(ROOT, tmp_path / "libs.zip")
    names = zipfile.ZipFile(built).namelist()
    assert "shared/__init__.py" in names and "shared/contract.py" in names
    assert "glue_streaming/__init__.py" in names and "glue_streaming/glue_job.py" in names
    assert {name.split("/", 1)[0] for name in names} == {"shared", "glue_streaming"}
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", "Makefile"))]


def test_the_zip_is_reproducible_so_its_hash_changes_only_with_the_code(tmp_path):
    first = bundle.build(ROOT, tmp_path / "a.zip").read_bytes()
    second = bundle.build(ROOT, tmp_path / "b.zip").read_bytes()
    assert first == second
    source = tmp_path / "src"
    for package in bundle.PACKAGES:
        (source / package).mkdir(parents=True)
        (source / package / "__init__.py").write_text("")
    before = bundle.build(source, tmp_path / "c.zip").read_bytes()
    (source / "shared" / "__init__.py").write_text("VERSION = 2\n")
    after = bundle.build(source, tmp_path / "d.zip").read_bytes()
    assert app.object_key("p-", before) != app.object_key("p-", after)


def test_a_missing_package_fails_the_build(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "__init__.py").write_text("")
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "glue_libs" / "bundle.py"), str(tmp_path), str(tmp_path / "x.zip")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "glue_streaming" in result.stderr and "not a Python package" in result.stderr


def test_the_contract_imports_from_the_zip_alone(tmp_path):
    built = bundle.build(ROOT, tmp_path / "libs.zip")
    # -I -S: no site-packages, no current directory; the zip on sys.path as Glue puts it there.
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import shared.contract as c; print(c.__file__)"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(built)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().startswith(str(built))


# ---- the custom resource against moto's S3 and a local stand-in for CloudFormation's response URL -------------


class _ResponseCatcher(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"content_type": self.headers.get("Content-Type"), "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def response_url():
    _ResponseCatcher.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ResponseCatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/response?signature=x", _ResponseCatcher.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def libs_bucket(moto_server, unique_name, monkeypatch, tmp_path):
    """A bucket on moto, the handler's boto3 pointed at it, and a built bundle next to the handler."""
    s3 = client("s3", moto_server.endpoint)
    s3.create_bucket(Bucket=unique_name)
    config = tmp_path / "aws-config"
    # The handler builds a default boto3 client, as in Lambda: settings come from the environment.
    config.write_text("[default]\ns3 =\n    addressing_style = path\n")
    for key, value in {
        "AWS_ENDPOINT_URL_S3": moto_server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(config),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(app, "BUNDLE", bundle.build(ROOT, tmp_path / "glue-libs.zip"))
    return s3, unique_name


def _event(request_type: str, url: str, bucket: str, physical_id: str | None = None) -> dict:
    event = {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": f"req-{request_type}",
        "LogicalResourceId": "GlueLibs",
        "ResourceType": "Custom::GlueLibs",
        "ResourceProperties": {"ServiceToken": "arn:fn", "Bucket": bucket, "KeyPrefix": "artifacts/glue-libs-"},
    }
    if physical_id:
        event["PhysicalResourceId"] = physical_id
    return event


def test_create_publishes_the_zip_and_answers_with_its_uri(libs_bucket, response_url):
    s3, bucket = libs_bucket
    url, received = response_url
    app.lambda_handler(_event("Create", url, bucket), None)
    (response,) = received
    body = response["body"]
    assert response["content_type"] == ""
    assert body["Status"] == "SUCCESS", body
    uri = body["Data"]["Uri"]
    assert body["PhysicalResourceId"] == uri and uri.startswith(f"s3://{bucket}/artifacts/glue-libs-")
    assert uri.endswith(".zip")
    assert (body["RequestId"], body["LogicalResourceId"]) == ("req-Create", "GlueLibs")
    stored = s3.get_object(Bucket=bucket, Key=uri.split("/", 3)[3])["Body"].read()
    assert stored == app.BUNDLE.read_bytes()


def test_update_with_the_same_code_keeps_the_uri_and_delete_removes_the_object(libs_bucket, response_url):
    s3, bucket = libs_bucket
    url, received = response_url
    app.lambda_handler(_event("Create", url, bucket), None)
    uri = received[-1]["body"]["PhysicalResourceId"]
    app.lambda_handler(_event("Update", url, bucket, uri), None)
    assert received[-1]["body"]["PhysicalResourceId"] == uri, "a new id would make CloudFormation delete the zip"
    app.lambda_handler(_event("Delete", url, bucket, uri), None)
    assert received[-1]["body"]["Status"] == "SUCCESS"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_delete_of_a_failed_create_touches_nothing(libs_bucket, response_url):
    s3, bucket = libs_bucket
    url, received = response_url
    s3.put_object(Bucket=bucket, Key="artifacts/other.zip", Body=b"x")
    app.lambda_handler(_event("Delete", url, bucket, "glue-libs-GlueLibs"), None)
    app.lambda_handler(_event("Delete", url, bucket, f"s3://{bucket}/artifacts/other.zip"), None)
    assert [r["body"]["Status"] for r in received] == ["SUCCESS", "SUCCESS"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_a_failure_is_reported_to_cloudformation_instead_of_hanging_the_stack(libs_bucket, response_url):
    _, bucket = libs_bucket
    url, received = response_url
    app.lambda_handler(_event("Create", url, f"{bucket}-missing"), None)
    (response,) = received
    assert response["body"]["Status"] == "FAILED"
    assert "NoSuchBucket" in response["body"]["Reason"]
