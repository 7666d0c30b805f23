"""`python -m comparison run --mode aws --stack NAME`: the same measurement, on a deployed stack.

It reads the stack (its Outputs and the parameters it was deployed with), checks that the stream, the
bucket and the Glue job are there and reachable, prints what the run will cost and asks to go on (`--yes`
for scripts), then starts a Glue job run (or attaches to one), produces the workload to the stack's stream
with the harness's producer, and finds every record in S3. The job run it started is stopped at the end,
on error and on Ctrl-C; nothing else is created or changed, so the stack is left as it was found.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from comparison import cost
from comparison.aws.glue_backend import split_s3
from comparison.aws.stack import Aws, AwsError, Stack, check_resources, explained, load_stack
from comparison.measure import Target, measure, prepare, tick_lead_ms
from comparison.paths import PATHS
from comparison.paths.firehose_lambda import settings as firehose_settings
from comparison.paths.kinesis_glue import settings as glue_settings
from comparison.workload import WorkloadConfig, generate

ROOT = Path(__file__).resolve().parents[2]
# Time a run takes beyond production: the job run's start (about a minute on Glue) and the drain.
START_ALLOWANCE_S = 120.0
# The notice prices the function before the run has measured it: a local run of the quick profile measured 0.228 ms
# per record (`python -m comparison run --profile quick --duration 15 --rate 100`, 2026-11-30T19:04Z), rounded up.
ASSUMED_LAMBDA_MS_PER_RECORD = 0.25
DRAIN_TRIGGERS = 3


def run_seconds(stack: Stack, config: WorkloadConfig) -> float:
    """How long the run is expected to keep the job running: start, production, a few triggers to drain."""
    trigger = glue_settings(stack.template()).trigger_seconds()
    return START_ALLOWANCE_S + config.duration_s + DRAIN_TRIGGERS * trigger + 60


def drain_timeout_s(stack: Stack) -> float:
    """How long the drain waits without progress: both Firehose buffers, three Glue triggers, and CloudWatch's
    delay in showing the function's Dropped count (a few minutes)."""
    firehose, glue = firehose_settings(stack.template()), glue_settings(stack.template())
    return firehose.processor_interval_s + firehose.delivery_interval_s + 3 * glue.trigger_seconds() + 240


def run_cost(stack: Stack, config: WorkloadConfig) -> dict[str, Any]:
    """The cost model for this run's traffic and the stack's settings, over the run's expected length.

    Each path's lines are priced for a "month" as long as the run; the stream is one, so it is counted once.
    """
    template = stack.template()
    firehose, parameters = firehose_settings(template), template.parameters
    sample = list(generate(replace(config, duration_s=min(config.duration_s, 10.0)), 0))
    record_bytes = max(1, round(sum(len(e.payload(e.scheduled_ms)) for e in sample) / max(1, len(sample))))
    seconds = run_seconds(stack, config)
    workload = cost.Workload(
        events_per_s=config.rate,
        record_size_bytes=record_bytes,
        lambda_ms_per_record=ASSUMED_LAMBDA_MS_PER_RECORD,
        hours_per_month=seconds / 3600,
        lambda_memory_mb=firehose.lambda_memory_mb,
        processor_buffer_mb=firehose.processor_buffer_mb,
        processor_interval_s=firehose.processor_interval_s,
        delivery_buffer_mb=firehose.delivery_buffer_mb,
        delivery_interval_s=firehose.delivery_interval_s,
        kinesis_mode="on-demand" if parameters["StreamMode"] == "ON_DEMAND" else "provisioned",
        glue_worker_type=str(parameters["GlueWorkerType"]),
        glue_workers=int(parameters["GlueNumberOfWorkers"]),
        glue_window_s=glue_settings(template).trigger_seconds(),
    )
    model = cost.estimate(workload, stack.region).to_dict()
    lines: dict[str, float] = {}
    for name, path in model["paths"].items():
        for line in path["lines"]:
            # Both paths read the one stream: its line is the same in each, and counted once.
            key = line["service"] if line["service"] == "kinesis" else f"{name}: {line['service']}"
            lines[key] = line["usd_per_month"]
    return {"seconds": seconds, "lines": lines, "total": sum(lines.values()), "record_bytes": record_bytes}


def confirm(stack: Stack, config: WorkloadConfig, console: Console, yes: bool) -> dict[str, Any]:
    """Print what the run will cost; unless `yes`, ask. Raises AwsError when the answer is no."""
    estimate = run_cost(stack, config)
    console.print(
        f"Measuring stack [bold]{stack.name}[/bold] in {stack.region}: {config.rate:g} events/s for "
        f"{config.duration_s:g} s; the Glue job runs about {estimate['seconds'] / 60:.0f} minutes "
        "(it bills while it runs, at least one minute)."
    )
    for service, usd in estimate["lines"].items():
        console.print(f"  {service}: ${usd:,.4f}")
    console.print(
        f"  estimated cost of this run: [bold]${estimate['total']:,.2f}[/bold] (list prices, the cost model; "
        f"Lambda at {ASSUMED_LAMBDA_MS_PER_RECORD} ms per record, assumed)"
    )
    if yes:
        return estimate
    if not sys.stdin.isatty():
        raise AwsError("the run bills your account: confirm with --yes when running without a terminal")
    answer = input("Start the run? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise AwsError("not started: nothing was created or run")
    return estimate


def deployed_registry(aws: Aws, stack: Stack) -> bytes:
    """The device registry the stack's function and job enrich with (DeviceRegistryUri), for the ground truth:
    the run's devices are enriched by what the stack holds, not by a registry of the harness's own."""
    uri = str(stack.parameters.get("DeviceRegistryUri", ""))
    if not uri:
        return b""
    if not uri.startswith("s3://"):
        # A file bundled with the function: the same file in this checkout.
        bundled = ROOT / uri
        if not bundled.is_file():
            raise AwsError(f"the stack's DeviceRegistryUri {uri!r} is neither an s3:// URI nor a file of this checkout")
        return bundled.read_bytes()
    bucket, key = split_s3(uri)
    with explained("s3", "GetObject", uri):
        return aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def run_aws(
    stack_name: str,
    config: WorkloadConfig,
    out: Path,
    console: Console,
    yes: bool = False,
    glue_run_id: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """Measure the deployed stack `stack_name` on the workload; returns the report."""
    aws = Aws(region)
    stack = load_stack(aws, stack_name)
    check_resources(aws, stack)
    with contextlib.ExitStack() as cleanup:
        backends = {}
        for path in PATHS:
            backends[path.name] = path.backend("aws", aws, stack, out, {"glue_run_id": glue_run_id})
        estimate = confirm(stack, config, console, yes)
        prepare(out)
        (out / "input" / "devices.jsonl").write_bytes(deployed_registry(aws, stack))
        for backend in backends.values():
            cleanup.callback(backend.stop)
        kinesis = aws.client("kinesis")
        with explained("kinesis", "DescribeStreamSummary", stack.outputs["StreamName"]):
            summary = kinesis.describe_stream_summary(StreamName=stack.outputs["StreamName"])
        target = Target(
            mode="aws",
            kinesis=kinesis,
            endpoint=kinesis.meta.endpoint_url,
            stream=stack.outputs["StreamName"],
            backends=backends,
            shards=summary["StreamDescriptionSummary"]["OpenShardCount"],
            drain_timeout_s=drain_timeout_s(stack),
            tick_lead_ms=tick_lead_ms(stack.template()),
            description={"stack": stack.name, "region": stack.region, "estimated_usd": round(estimate["total"], 4)},
        )
        return measure(target, config, out, console)
