"""A deployed stack as the harness sees it: its Outputs, its parameters, its region, and checked access.

Every AWS call goes through boto3 clients built here, whose endpoints follow the standard settings
(`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`): the tests point them at a local cloud. Errors a user can
act on (no credentials, an unknown stack, missing outputs, a denied action, a resource in another region)
become `AwsError` with the fix in its message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from comparison.local.template import Template, TemplateError

# The Outputs the harness reads (template.yaml declares them).
REQUIRED_OUTPUTS = (
    "StreamName",
    "StreamArn",
    "BucketName",
    "FirehoseCuratedPrefix",
    "FirehoseErrorPrefix",
    "DeliveryStreamName",
    "FunctionName",
    "FunctionLogGroup",
    "GlueJobName",
    "GlueOutputRoot",
)
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError")


class AwsError(RuntimeError):
    """Something in the account or the stack stops the run; the message says what to do."""


@contextlib.contextmanager
def explained(service: str, operation: str, resource: str = "") -> Iterator[None]:
    """Turn a denied or failed call into an AwsError naming the IAM action (`service:Operation`)."""
    try:
        yield
    except NoCredentialsError:
        raise AwsError(
            "no AWS credentials found: configure them (aws configure, AWS_PROFILE or the AWS_ACCESS_KEY_ID "
            "variables) for the account the stack is in"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        target = target_of(resource)
        if code in DENIED or "AccessDenied" in code:
            raise AwsError(
                f"permission denied: the caller may not {service}:{operation}{target}; "
                "grant that action (README, 'Measuring a deployed stack', lists every action the run needs)"
            ) from None
        raise AwsError(
            f"{service}:{operation}{target} failed: {code}: {error.response['Error'].get('Message', '')}"
        ) from None
    except BotoCoreError as error:
        raise AwsError(f"{service}:{operation}{target_of(resource)} failed: {error}") from None


def target_of(resource: str) -> str:
    """' on RESOURCE', or nothing."""
    return f" on {resource}" if resource else ""


class Aws:
    """boto3 clients of one region, made once each."""

    def __init__(self, region: str | None = None) -> None:
        try:
            self.session = boto3.Session(region_name=region)
        except BotoCoreError as error:
            raise AwsError(f"cannot start an AWS session: {error}") from None
        if self.session.region_name is None:
            raise AwsError("no AWS region: pass --region or set AWS_REGION (the stack's region)")
        try:
            credentials = self.session.get_credentials()
        except BotoCoreError as error:
            raise AwsError(f"cannot load AWS credentials: {error}") from None
        if credentials is None:
            raise AwsError(
                "no AWS credentials found: configure them (aws configure, AWS_PROFILE or the AWS_ACCESS_KEY_ID "
                "variables) for the account the stack is in"
            )
        self.region: str = self.session.region_name
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """A client of `service` in the run's region."""
        if service not in self._clients:
            config = Config(retries={"mode": "standard", "max_attempts": 5})
            try:
                self._clients[service] = self.session.client(service, config=config)
            except NoRegionError:
                raise AwsError("no AWS region: pass --region or set AWS_REGION (the stack's region)") from None
        return self._clients[service]


@dataclass(frozen=True)
class Stack:
    """A deployed stack's name, region, Outputs and parameters."""

    name: str
    region: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    def template(self) -> Template:
        """template.yaml with the stack's parameter values: the settings it was deployed with."""
        try:
            return Template(overrides=self.parameters, region=self.region)
        except TemplateError as error:
            raise AwsError(f"stack {self.name} was not deployed from this template.yaml: {error}") from None


def load_stack(aws: Aws, name: str) -> Stack:
    """Read a stack's Outputs and parameters, checking that the harness has what it needs."""
    cloudformation = aws.client("cloudformation")
    try:
        with explained("cloudformation", "DescribeStacks", name):
            stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except AwsError as error:
        if "does not exist" in str(error):
            raise AwsError(
                f"no stack named {name!r} in {aws.region}: check the name (sam list stack-outputs --stack-name ...) "
                "and the region (AWS_REGION)"
            ) from None
        raise
    stack = stacks[0]
    # UPDATE_ROLLBACK_COMPLETE is a stack back on its previous, working version; ROLLBACK_COMPLETE one that
    # never got created.
    if not stack["StackStatus"].endswith("_COMPLETE") or stack["StackStatus"] in (
        "ROLLBACK_COMPLETE",
        "DELETE_COMPLETE",
    ):
        raise AwsError(f"stack {name} is {stack['StackStatus']}: deploy it (sam deploy) before measuring it")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise AwsError(
            f"stack {name} lacks the outputs {', '.join(missing)}: it was not deployed from this template.yaml "
            "(or from an older version of it); redeploy with sam deploy"
        )
    stream_region = outputs["StreamArn"].split(":")[3]
    if stream_region != aws.region:
        raise AwsError(
            f"stack {name}'s stream is in {stream_region}, but the run's region is {aws.region}: "
            f"run with AWS_REGION={stream_region} (or --region {stream_region})"
        )
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    return Stack(name=name, region=aws.region, outputs=outputs, parameters=parameters)


def check_resources(aws: Aws, stack: Stack) -> None:
    """The stream, the bucket and the job exist and the caller can reach them."""
    outputs = stack.outputs
    with explained("kinesis", "DescribeStreamSummary", outputs["StreamName"]):
        summary = aws.client("kinesis").describe_stream_summary(StreamName=outputs["StreamName"])
    if summary["StreamDescriptionSummary"]["StreamStatus"] not in ("ACTIVE", "UPDATING"):
        raise AwsError(f"stream {outputs['StreamName']} is {summary['StreamDescriptionSummary']['StreamStatus']}")
    with explained("s3", "ListBucket", outputs["BucketName"]):
        aws.client("s3").list_objects_v2(Bucket=outputs["BucketName"], MaxKeys=1)
    with explained("glue", "GetJob", outputs["GlueJobName"]):
        aws.client("glue").get_job(JobName=outputs["GlueJobName"])
    # What the end of the run reads, checked before anything bills.
    with explained("cloudwatch", "GetMetricStatistics", "the EtlShowdown namespace"):
        now = datetime.now(timezone.utc)
        aws.client("cloudwatch").get_metric_statistics(
            Namespace="EtlShowdown", MetricName="RecordsDropped", StartTime=now - timedelta(minutes=5), EndTime=now,
            Period=60, Statistics=["Sum"],
        )  # fmt: skip
    with explained("logs", "FilterLogEvents", outputs["FunctionLogGroup"]):
        aws.client("logs").filter_log_events(logGroupName=outputs["FunctionLogGroup"], limit=1)
