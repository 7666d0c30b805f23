"""CloudFormation custom resource: publish the Glue job's libraries zip to S3, return its URI.

`sam package` uploads a Glue job's script but not its `--extra-py-files`, so this function's bundle
carries the zip (`glue-libs.zip`, built by `sam build`, see bundle.py) and copies it to
`s3://<Bucket>/<KeyPrefix><sha256 prefix>.zip` on Create and Update. The URI is the resource's
physical id and its `Uri` attribute (`!GetAtt GlueLibs.Uri`): new code gives a new URI, so
CloudFormation updates the job, then deletes the old object with a Delete for the old id.

Properties: Bucket, KeyPrefix (e.g. "artifacts/glue-libs-"); anything else (CodeVersion) only
makes CloudFormation send an Update when it changes.
Protocol: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError

BUNDLE = Path(__file__).with_name("glue-libs.zip")
HASH_CHARS = 16
RESPONSE_TIMEOUT_S = 30
RESPONSE_ATTEMPTS = 3

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def object_key(prefix: str, data: bytes) -> str:
    """The S3 key of the zip: the prefix, the start of its SHA-256, `.zip` (Glue wants the extension)."""
    return f"{prefix}{hashlib.sha256(data).hexdigest()[:HASH_CHARS]}.zip"


def publish(bucket: str, prefix: str, bundle: Path) -> str:
    """Upload the bundle under its content-addressed key; returns its s3:// URI."""
    data = bundle.read_bytes()
    key = object_key(prefix, data)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/zip")
    return f"s3://{bucket}/{key}"


def unpublish(uri: str, bucket: str, prefix: str) -> None:
    """Delete a zip this resource published; anything else (a failed create's id) is left alone."""
    parsed = urlparse(uri)
    key = parsed.path.lstrip("/")
    if parsed.scheme != "s3" or parsed.netloc != bucket or not key.startswith(prefix) or not key.endswith(".zip"):
        logger.info("nothing to delete for physical id %s", uri)
        return
    try:
        boto3.client("s3").delete_object(Bucket=bucket, Key=key)
    except ClientError as error:
        # A bucket already emptied and deleted by hand must not block the stack's deletion.
        if error.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
        logger.info("bucket %s is gone: nothing to delete", bucket)


def respond(event: dict[str, Any], status: str, physical_id: str, data: dict[str, str], reason: str = "") -> None:
    """PUT the result to CloudFormation's pre-signed ResponseURL (the stack waits for it)."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or status,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": data,
        }
    ).encode()
    # The URL is signed for an empty Content-Type: any other value makes S3 refuse the PUT.
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    for attempt in range(1, RESPONSE_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_S):
                return
        except OSError:
            if attempt == RESPONSE_ATTEMPTS:
                raise
            logger.warning("response PUT failed (attempt %d), retrying", attempt, exc_info=True)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Handle Create, Update and Delete; always answer CloudFormation, or its stack would hang for an hour."""
    request_type = event.get("RequestType")
    physical_id = event.get("PhysicalResourceId") or f"glue-libs-{event.get('LogicalResourceId', 'unknown')}"
    logger.info("%s %s", request_type, physical_id)
    try:
        properties = event["ResourceProperties"]
        bucket, prefix = properties["Bucket"], properties["KeyPrefix"]
        if request_type == "Delete":
            unpublish(physical_id, bucket, prefix)
            data = {}
        elif request_type in ("Create", "Update"):
            physical_id = publish(bucket, prefix, BUNDLE)
            data = {"Uri": physical_id}
        else:
            raise ValueError(f"unknown RequestType {request_type!r}")
    except Exception as error:
        logger.exception("custom resource failed")
        respond(event, "FAILED", physical_id, {}, f"{type(error).__name__}: {error}")
        return
    respond(event, "SUCCESS", physical_id, data)
