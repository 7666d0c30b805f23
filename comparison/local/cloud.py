"""A local cloud that plays a deployed stack, so that `--mode aws` runs end to end without an account.

On 127.0.0.1: kinesalite (Kinesis), one moto server (S3, CloudFormation, CloudWatch, CloudWatch Logs), and
a local Glue API (`glue_service.py`) whose job runs are the job's own entry on local Spark. The services
behind the stack are played by the project's local runtimes: the Firehose simulator reads the stream and
calls the real handler, writing to the stack's bucket, and a shipper does what Lambda and CloudWatch do with
the function's output (log lines to the function's log group, its EMF metrics to CloudWatch) and publishes
the figures AWS would (Lambda Invocations and Duration, Firehose DeliveryToS3.Records and DataFreshness).

A stack is a CloudFormation stack in moto with the template's parameters, the bucket, and Outputs naming the
local resources. `env()` is what a process needs to reach this cloud through the standard
`AWS_ENDPOINT_URL_<SERVICE>` settings. Start it with `python -m comparison.local.cloud` to try `--mode aws`
by hand.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from comparison.local.firehose import FirehoseSimulator
from comparison.local.firehose_settings import FirehoseSettings
from comparison.local.glue_runner import GlueJobSettings
from comparison.local.glue_service import GlueService
from comparison.local.lambda_runtime import LocalLambda
from comparison.local.servers import REGION, Kinesalite, MotoServer, client, create_stream
from comparison.local.template import Template
from comparison.workload import WorkloadConfig, build_registry, registry_json_lines

STREAM, BUCKET, JOB, FUNCTION, DELIVERY = "telemetry", "etl-showdown-cloud", "etl-showdown-job", "transform", "to-s3"
ACCOUNT = "000000000000"
LOG_GROUP = "/aws/lambda/etl-showdown-firehose-transform"
# The stack the cloud starts with; further stacks (tests of bad ones) name the same resources.
STACK_NAME = "etl-showdown"
REGISTRY_KEY = "registry/devices.jsonl"


def outputs(stream_region: str = REGION) -> dict[str, str]:
    """The Outputs template.yaml declares, naming the local cloud's resources."""
    return {
        "StreamName": STREAM,
        "StreamArn": f"arn:aws:kinesis:{stream_region}:{ACCOUNT}:stream/{STREAM}",
        "BucketName": BUCKET,
        "FirehoseCuratedPrefix": "firehose/curated/",
        "FirehoseErrorPrefix": "firehose/errors/",
        "DeliveryStreamName": DELIVERY,
        "FunctionName": FUNCTION,
        # Named as the template names it, not after the function: the harness must read the Output.
        "FunctionLogGroup": LOG_GROUP,
        "GlueJobName": JOB,
        "GlueOutputRoot": f"s3://{BUCKET}/glue/",
        "GlueCheckpointLocation": f"s3://{BUCKET}/checkpoints/glue/",
    }


def stack_body(template: Template, values: dict[str, str], with_bucket: bool) -> str:
    """A CloudFormation template with template.yaml's parameters, the bucket (or, for a further stack naming
    the same resources, a placeholder: a stack needs one resource), and the given Outputs."""
    parameters = {
        name: {"Type": spec.get("Type", "String"), **({"Default": str(spec["Default"])} if "Default" in spec else {})}
        for name, spec in template.body["Parameters"].items()
    }
    return json.dumps(
        {
            "Parameters": parameters,
            "Resources": {"DataBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}}}
            if with_bucket
            else {"Placeholder": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in values.items()},
        }
    )


class Shipper:
    """What Lambda and CloudWatch do with the function's output, and the metrics the services publish."""

    def __init__(self, simulator: FirehoseSimulator, log: Path, logs: Any, cloudwatch: Any) -> None:
        self.simulator, self.log, self.logs, self.cloudwatch = simulator, log, logs, cloudwatch
        self.group = LOG_GROUP
        self.logs.create_log_group(logGroupName=self.group)
        self.logs.create_log_stream(logGroupName=self.group, logStreamName="local")
        self.offset = 0
        self.invocations: set[tuple[int, int]] = set()
        self.written: set[tuple] = set()

    def ship(self) -> None:
        """Ship what is new since the last call."""
        self._log_lines()
        self._service_metrics()

    def _log_lines(self) -> None:
        if not self.log.exists():
            return
        with open(self.log) as stream:
            stream.seek(self.offset)
            text = stream.read()
        complete = text[: text.rfind("\n") + 1]
        self.offset += len(complete.encode())
        events = []
        for line in complete.splitlines():
            entry = _json(line)
            if entry is not None and "_aws" in entry:
                self._emf(entry)
            # CloudWatch Logs keeps an embedded-metric line as a log event too.
            if line.strip():
                events.append({"timestamp": int(time.time() * 1000), "message": line})
        for start in range(0, len(events), 1000):
            self.logs.put_log_events(
                logGroupName=self.group, logStreamName="local", logEvents=events[start : start + 1000]
            )

    def _emf(self, entry: dict[str, Any]) -> None:
        """CloudWatch's reading of an embedded-metric-format line."""
        for directive in entry["_aws"].get("CloudWatchMetrics", []):
            # One metric per dimension set, as CloudWatch extracts them.
            for group in directive["Dimensions"]:
                dimensions = [{"Name": d, "Value": str(entry[d])} for d in group]
                data = []
                for metric in directive["Metrics"]:
                    values = entry.get(metric["Name"], [])
                    for value in values if isinstance(values, list) else [values]:
                        data.append({"MetricName": metric["Name"], "Dimensions": dimensions, "Value": float(value),
                                     "Unit": metric.get("Unit", "None")})  # fmt: skip
                if data:
                    self.cloudwatch.put_metric_data(Namespace=directive["Namespace"], MetricData=data)

    def _service_metrics(self) -> None:
        timelines = list(self.simulator.timelines.values())
        function = [{"Name": "FunctionName", "Value": FUNCTION}]
        delivery = [{"Name": "DeliveryStreamName", "Value": DELIVERY}]
        data = []
        for t in timelines:
            if t.invoke_start_ms is not None and t.invoke_end_ms is not None:
                call = (t.invoke_start_ms, t.invoke_end_ms)
                if call not in self.invocations:
                    self.invocations.add(call)
                    data.append({"MetricName": "Invocations", "Dimensions": function, "Value": 1.0, "Unit": "Count"})
                    data.append({"MetricName": "Duration", "Dimensions": function, "Value": float(call[1] - call[0]),
                                 "Unit": "Milliseconds"})  # fmt: skip
        for start in range(0, len(data), 500):
            self.cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data[start : start + 500])
        fresh = [t for t in timelines if t.written_ms is not None and (t.shard_id, t.sequence_number,
                 t.subsequence_number) not in self.written]  # fmt: skip
        if fresh:
            self.written.update((t.shard_id, t.sequence_number, t.subsequence_number) for t in fresh)
            oldest = max((t.written_ms - t.arrival_ms) / 1000 for t in fresh)
            self.cloudwatch.put_metric_data(
                Namespace="AWS/Firehose",
                MetricData=[
                    {"MetricName": "DeliveryToS3.Records", "Dimensions": delivery, "Value": float(len(fresh)),
                     "Unit": "Count"},
                    {"MetricName": "DeliveryToS3.DataFreshness", "Dimensions": delivery, "Value": oldest,
                     "Unit": "Seconds"},
                ],
            )  # fmt: skip


def _json(line: str) -> dict[str, Any] | None:
    with contextlib.suppress(ValueError):
        value = json.loads(line)
        return value if isinstance(value, dict) else None
    return None


class LocalCloud:
    """The local cloud, playing one deployed stack's services. Use as a context manager."""

    def __init__(
        self, folder: Path, parameters: dict[str, Any], config: WorkloadConfig, denied: tuple[str, ...] = ()
    ) -> None:
        self.folder, self.config, self.denied = Path(folder), config, denied
        self.parameters = {**parameters, "DeviceRegistryUri": f"s3://{BUCKET}/{REGISTRY_KEY}"}
        self.template = Template(overrides=self.parameters)
        self._stack = contextlib.ExitStack()
        self._stop = threading.Event()

    def __enter__(self) -> LocalCloud:
        stack = self._stack
        self.folder.mkdir(parents=True, exist_ok=True)
        self.moto = stack.enter_context(MotoServer())
        self.kinesalite = stack.enter_context(Kinesalite())
        create_stream(self.client("kinesis"), STREAM, shards=2)
        self.create_stack(STACK_NAME)
        registry = self.folder / "devices.jsonl"
        registry.write_bytes(registry_json_lines(build_registry(self.config)))
        self.client("s3").put_object(Bucket=BUCKET, Key=REGISTRY_KEY, Body=registry.read_bytes())
        self.glue = GlueService(
            JOB, GlueJobSettings.from_template(self.template), self.kinesalite.endpoint, STREAM, registry,
            self.folder / "glue", self.client("s3"), BUCKET, "glue/", self.client("cloudwatch"), self.denied,
        ).start()  # fmt: skip
        stack.callback(self.glue.close)
        (self.folder / "logs").mkdir(exist_ok=True)
        handler = LocalLambda(self.template, log_path=self.folder / "lambda.log",
                              environment={"DEVICE_REGISTRY": str(registry)})  # fmt: skip
        stack.callback(handler.close)
        settings = FirehoseSettings.from_template(self.template, name=DELIVERY)
        self.firehose = FirehoseSimulator(
            settings, kinesis=self.client("kinesis"), stream_name=STREAM, s3=self.client("s3"), bucket=BUCKET,
            handler=handler, checkpoint_path=self.folder / "firehose-checkpoint.json",
        )  # fmt: skip
        shipper = Shipper(self.firehose, self.folder / "lambda.log", self.client("logs"), self.client("cloudwatch"))
        threads = [
            threading.Thread(target=self.firehose.run, args=(self._stop,), daemon=True),
            threading.Thread(target=self._ship, args=(shipper,), daemon=True),
        ]
        for thread in threads:
            thread.start()
            stack.callback(thread.join, 30)
        stack.callback(self._stop.set)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    def _ship(self, shipper: Shipper) -> None:
        while not self._stop.wait(1.0):
            shipper.ship()
        shipper.ship()

    def client(self, service: str) -> Any:
        """A boto3 client of one of the local cloud's services."""
        return client(service, self.kinesalite.endpoint if service == "kinesis" else self.moto.endpoint)

    def create_stack(self, name: str, values: dict[str, str] | None = None) -> None:
        """A stack in the local CloudFormation with the cloud's parameters and the given Outputs."""
        body = stack_body(self.template, outputs() if values is None else values, with_bucket=name == STACK_NAME)
        parameters = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in self.parameters.items()]
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(StackName=name, TemplateBody=body, Parameters=parameters)

    def env(self) -> dict[str, str]:
        """The environment that points boto3 at this cloud (credentials are the local servers' fixed ones)."""
        config = self.folder / "aws-config"
        config.write_text(f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n")
        moto = self.moto.endpoint
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.folder / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL_KINESIS": self.kinesalite.endpoint,
            "AWS_ENDPOINT_URL_S3": moto,
            "AWS_ENDPOINT_URL_CLOUDFORMATION": moto,
            "AWS_ENDPOINT_URL_CLOUDWATCH": moto,
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": moto,
            "AWS_ENDPOINT_URL_GLUE": self.glue.endpoint,
        }

    def describe(self) -> dict[str, Any]:
        """What is running, for a person trying `--mode aws` by hand."""
        return {"env": self.env(), "stack": STACK_NAME, "parameters": self.parameters,
                "firehose": asdict(self.firehose.settings)}  # fmt: skip


def main() -> None:
    """Run the local cloud with the quick profile's parameters until Ctrl-C, printing its environment."""
    from comparison.run import profiles

    profile = profiles()["quick"]
    with LocalCloud(Path("runs/local-cloud"), profile.parameters, WorkloadConfig()) as cloud:
        print(json.dumps(cloud.describe(), indent=1, default=str))
        print("export " + " ".join(f"{k}={v}" for k, v in cloud.env().items()))
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)


if __name__ == "__main__":
    main()
