"""A Firehose delivery stream's configuration, as template.yaml defines it and as Firehose validates it, and the
S3 prefixes it evaluates (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html).

The knobs the cost model also prices carry its names (comparison/cost_workload.py: `processor_buffer_mb`,
`processor_interval_s`, `delivery_buffer_mb`, `delivery_interval_s`, `dynamic_partitioning`, `lambda_memory_mb`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from comparison.local.template import Template, TemplateError

MAX_PREFIX_LENGTH = 512
DELIVERY_STREAM_VERSION = 1
ERROR_OUTPUT_TYPE = "processing-failed"


class FirehoseConfigError(ValueError):
    """A delivery stream configuration Firehose would not accept."""


class PartitionKeyError(ValueError):
    """A record lacks a partition key its object's prefix uses (Firehose fails the record)."""


@dataclass(frozen=True)
class FirehoseSettings:
    """The delivery stream's behaviour, as template.yaml defines it."""

    name: str
    lambda_arn: str
    processor_buffer_mb: float = 1.0
    processor_interval_s: float = 60.0
    retries: int = 3
    delivery_buffer_mb: float = 5.0
    delivery_interval_s: float = 300.0
    compression: str = "UNCOMPRESSED"
    prefix: str = ""
    error_prefix: str = ""
    dynamic_partitioning: bool = False
    function_name: str = "FirehoseTransformFunction"
    lambda_memory_mb: int = 512
    timeout_s: float = 120.0
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        checks = [
            ("BufferSizeInMBs (processor)", self.processor_buffer_mb, 0.2, 3),
            ("BufferIntervalInSeconds (processor)", self.processor_interval_s, 0, 900),
            ("NumberOfRetries (processor)", self.retries, 0, 300),
            ("BufferingHints.SizeInMBs", self.delivery_buffer_mb, 1, 128),
            ("BufferingHints.IntervalInSeconds", self.delivery_interval_s, 0, 900),
        ]
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise FirehoseConfigError(f"{name}={value} is outside Firehose's range {low}..{high}")
        if self.compression not in ("UNCOMPRESSED", "GZIP"):
            raise FirehoseConfigError(
                f"CompressionFormat={self.compression!r}: this simulator knows UNCOMPRESSED and GZIP"
            )
        if self.dynamic_partitioning:
            # CloudFormation refuses smaller buffers with dynamic partitioning (errors quoted by the AWS CDK).
            if self.delivery_buffer_mb < 64:
                raise FirehoseConfigError(
                    "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled"
                )
            if self.delivery_interval_s < 60:
                raise FirehoseConfigError(
                    "BufferingHints.IntervalInSeconds must be at least 60 seconds when Dynamic Partitioning is enabled"
                )
            if "!{partitionKeyFromLambda:" not in self.prefix:
                raise FirehoseConfigError("dynamic partitioning needs !{partitionKeyFromLambda:...} in the Prefix")
        elif "!{partitionKeyFrom" in self.prefix:
            raise FirehoseConfigError("the Prefix uses partition keys but dynamic partitioning is off")
        # The rules of s3-prefixes.html.
        if "!{" in self.prefix and not self.error_prefix:
            raise FirehoseConfigError("Invalid input: ErrorOutputPrefix can't be null when Prefix contains expressions")
        if "!{firehose:error-output-type}" in self.prefix:
            raise FirehoseConfigError("Prefix can't contain !{firehose:error-output-type}")
        if "!{" in self.error_prefix and "!{firehose:error-output-type}" not in self.error_prefix:
            raise FirehoseConfigError(
                "an ErrorOutputPrefix with expressions must include !{firehose:error-output-type}"
            )
        if "!{partitionKeyFrom" in self.error_prefix:
            raise FirehoseConfigError("ErrorOutputPrefix can't use partition keys")

    @classmethod
    def from_template(
        cls,
        template: Template,
        resource: str = "TelemetryDeliveryStream",
        function: str = "FirehoseTransformFunction",
        **overrides: Any,
    ) -> FirehoseSettings:
        """The settings of the template's delivery stream (and of its Lambda processor)."""
        stream = template.resource(resource, "AWS::KinesisFirehose::DeliveryStream")
        destination = stream.get("ExtendedS3DestinationConfiguration")
        if not destination:
            raise TemplateError(f"{resource} has no ExtendedS3DestinationConfiguration")
        processors = destination.get("ProcessingConfiguration", {}).get("Processors", [])
        lambda_processor = next((p for p in processors if p.get("Type") == "Lambda"), None)
        if lambda_processor is None:
            raise TemplateError(f"{resource} has no Lambda processor")
        parameters = {p["ParameterName"]: p["ParameterValue"] for p in lambda_processor.get("Parameters", [])}
        hints = destination.get("BufferingHints", {})
        function_properties = template.resource(function, "AWS::Serverless::Function")
        globals_ = template.body.get("Globals", {}).get("Function", {})
        values = dict(
            name=resource,
            lambda_arn=str(parameters.get("LambdaArn", f"arn:local:{function}")),
            processor_buffer_mb=float(parameters.get("BufferSizeInMBs", 1)),
            processor_interval_s=float(parameters.get("BufferIntervalInSeconds", 60)),
            retries=int(float(parameters.get("NumberOfRetries", 3))),
            delivery_buffer_mb=float(hints.get("SizeInMBs", 5)),
            delivery_interval_s=float(hints.get("IntervalInSeconds", 300)),
            compression=str(destination.get("CompressionFormat", "UNCOMPRESSED")),
            prefix=str(destination.get("Prefix", "")),
            error_prefix=str(destination.get("ErrorOutputPrefix", "")),
            dynamic_partitioning=bool(destination.get("DynamicPartitioningConfiguration", {}).get("Enabled", False)),
            function_name=function,
            lambda_memory_mb=int(function_properties.get("MemorySize", globals_.get("MemorySize", 128))),
            timeout_s=float(function_properties.get("Timeout", globals_.get("Timeout", 3))),
            region=template.region,
        )
        values.update(overrides)
        return cls(**values)


def render_prefix(template: str, when_ms: int, error_output_type: str | None = None, keys: dict | None = None) -> str:
    """Evaluate Firehose's prefix expressions: !{timestamp:...} (UTC), !{firehose:...}, !{partitionKeyFromLambda:...}

    at the instant `when_ms` (the arrival of the oldest record of the object)."""
    when = datetime.fromtimestamp(when_ms / 1000, tz=timezone.utc)
    out, rest = [], template
    while "!{" in rest:
        head, _, tail = rest.partition("!{")
        expression, found, rest = tail.partition("}")
        if not found:
            raise FirehoseConfigError(f"unclosed expression in prefix {template!r}")
        namespace, _, name = expression.partition(":")
        if namespace == "timestamp":
            value = _java_time(name, when)
        elif namespace == "firehose" and name == "error-output-type":
            if error_output_type is None:
                raise FirehoseConfigError("!{firehose:error-output-type} belongs in the ErrorOutputPrefix only")
            value = error_output_type
        elif namespace == "firehose" and name == "random-string":
            value = uuid.uuid4().hex[:11]
        elif namespace == "partitionKeyFromLambda":
            if keys is None or name not in keys:
                raise PartitionKeyError(f"no partition key {name!r}")
            value = str(keys[name])
        else:
            raise FirehoseConfigError(f"unknown prefix expression !{{{expression}}}")
        out += [head, value]
    out.append(rest)
    rendered = "".join(out)
    if "!{timestamp:" not in template:
        # A prefix without a timestamp expression gets Firehose's !{timestamp:yyyy/MM/dd/HH/} appended.
        rendered += when.strftime("%Y/%m/%d/%H/")
    return rendered


def _java_time(pattern: str, when: datetime) -> str:
    """The DateTimeFormatter subset Firehose prefixes use: yyyy, MM, dd, HH, mm, ss and literals."""
    tokens = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
    out, index = [], 0
    while index < len(pattern):
        for token, code in tokens.items():
            if pattern.startswith(token, index):
                out.append(when.strftime(code))
                index += len(token)
                break
        else:
            if pattern[index].isalpha():
                raise FirehoseConfigError(f"unsupported timestamp pattern {pattern!r}")
            out.append(pattern[index])
            index += 1
    return "".join(out)


def render_error_prefix(template: str, when_ms: int) -> str:
    """The ErrorOutputPrefix of an error object at `when_ms`, for records that failed processing."""
    if "!{" not in template:
        # Without expressions, the error output type and the time are appended (s3-prefixes.html).
        template += ERROR_OUTPUT_TYPE + "/"
    return render_prefix(template, when_ms, error_output_type=ERROR_OUTPUT_TYPE)


def object_key(prefix: str, delivery_stream: str, oldest_ms: int, extension: str = "") -> str:
    """The S3 key Firehose gives an object: the evaluated prefix, the stream's name and version, the arrival of
    the object's oldest record (UTC) and a random id."""
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise FirehoseConfigError(f"the evaluated prefix {prefix[:40]!r}... is over {MAX_PREFIX_LENGTH} characters")
    stamp = datetime.fromtimestamp(oldest_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
    return f"{prefix}{delivery_stream}-{DELIVERY_STREAM_VERSION}-{stamp}-{uuid.uuid4()}{extension}"
