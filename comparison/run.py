"""`python -m comparison run`: every path on one workload, measured side by side, and the report.

`--mode local` (the default) starts everything on 127.0.0.1: kinesalite (Kinesis), a moto server (S3), the
Firehose simulator calling the real transformation handler, and the Glue job on local Spark (a separate
process, as a Glue job is). `--mode aws --stack NAME` measures a deployed stack instead
(`comparison/aws/`). Either way `comparison.measure` produces the workload, drains every path, copies what
each delivered into the run folder, and writes report.json, report.md and report.html there.

Run folder: input/ (events.jsonl, devices.jsonl), sinks/firehose_lambda/ (S3 objects by key),
sinks/kinesis_glue/ (the Glue job's output root), timings/, logs/, state/ (checkpoints), load/ (locust's
CSV statistics, under `--driver locust`), report.*.
"""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from comparison.arguments import workload_arguments, workload_config
from comparison.chaos import ChaosPlan
from comparison.local.template import Template
from comparison.measure import Target, measure, prepare, tick_lead_ms
from comparison.paths import PATHS
from comparison.workload import WorkloadConfig, build_registry, registry_json_lines

USERS = 2


@dataclass(frozen=True)
class Profile:
    """A named set of run settings: the workload's rate and length, and template parameters (both paths'
    settings come from the template with these parameters, as a stack deployed with them would run)."""

    name: str
    rate: float
    duration_s: float
    parameters: dict[str, Any] = field(default_factory=dict)
    # Seconds without progress (records read, micro-batches, restarts) after which draining gives up.
    drain_timeout_s: float = 180.0
    # Micro-batches the local Glue job runs on a stream of its own before it starts (comparison.local.glue_warm_up),
    # so that it is measured in its steady state: a 1,500-event micro-batch reached its plateau from the 21st
    # (benchmarks/README.md). With 30, `make compare` measured micro-batches of 3.27 s p50 and 4.11 s at most,
    # against 3.9 s and 7.8 s with none (its warm-up 131 s; 2026-12-01T13:29Z against 11:46Z).
    glue_warm_up_batches: int = 20

    def template(self) -> Template:
        """template.yaml with this profile's parameters."""
        return Template(overrides=self.parameters)


def profiles() -> dict[str, Profile]:
    """`quick`: zero buffering and a 10-second trigger (what `make compare` runs: about four minutes, the Glue
    job's warm-up included). `aws-defaults`: the template's defaults (1 MB / 60 s processor, 5 MB / 300 s
    delivery, 100-second window), with the watermark shortened to 2 minutes so that windows can close within the run."""
    return {
        "quick": Profile(
            "quick",
            rate=150,
            duration_s=60,
            parameters={
                "ProcessorBufferIntervalSeconds": 0,
                "DeliveryBufferIntervalSeconds": 0,
                "GlueWindowSizeSeconds": 10,
                "GlueAggregateWindow": "10 seconds",
                "GlueWatermarkDelay": "30 seconds",
            },
        ),
        "aws-defaults": Profile(
            "aws-defaults",
            rate=150,
            duration_s=300,
            parameters={"GlueWatermarkDelay": "2 minutes"},
            drain_timeout_s=720.0,
        ),
    }


def run_local(
    profile: Profile,
    config: WorkloadConfig,
    out: Path,
    console: Console,
    chaos: ChaosPlan | None = None,
    driver: str = "producer",
    users: int = 2,
    sample_every_s: float = 5.0,
    kpl_aggregation: bool = False,
    glue_kpl_deaggregation: bool = True,
    glue_warm_up_batches: int | None = None,
) -> dict[str, Any]:
    """Run every path on the local stand-ins, with faults when a chaos plan is given; returns the report.

    `driver` is what produces the workload: the harness's own producer, or `locust` users (`users` of them).
    `kpl_aggregation` sends the workload as KPL aggregates; `glue_kpl_deaggregation` is the assumption that
    Glue's Kinesis source unpacks them (Firehose does, documented). `glue_warm_up_batches` (the profile's when
    None) is how many micro-batches the local Glue job warms its JVM with before it starts.
    Progress and memory are sampled every `sample_every_s` seconds into timings/samples.jsonl.
    """
    from comparison.local.environment import SHARDS, start_local

    prepare(out)
    registry = out / "input" / "devices.jsonl"
    registry.write_bytes(registry_json_lines(build_registry(config)))
    template = profile.template()
    with contextlib.ExitStack() as stack:
        local = start_local(
            stack,
            chaos,
            out=out,
            console=console,
            template=template,
            config=config,
            registry=registry,
            glue_kpl_deaggregation=glue_kpl_deaggregation,
            glue_warm_up_batches=profile.glue_warm_up_batches if glue_warm_up_batches is None else glue_warm_up_batches,
        )
        backends = {}
        for path in PATHS:
            backends[path.name] = path.backend("local", local)
            stack.callback(backends[path.name].stop)
        target = Target(
            mode="local",
            kinesis=local.client("kinesis"),
            endpoint=local.kinesis_endpoint,
            stream=local.stream,
            backends=backends,
            shards=SHARDS,
            drain_timeout_s=profile.drain_timeout_s,
            tick_lead_ms=tick_lead_ms(template),
            chaos=chaos,
            proxy=local.proxy,
            description={"profile": profile.name},
        )
        return measure(target, config, out, console, driver, users, sample_every_s, kpl_aggregation)


def with_flags(profile: Profile, args: argparse.Namespace) -> Profile:
    """The profile with the knobs given on the command line (each a template parameter)."""
    parameters = dict(profile.parameters)
    for path in PATHS:
        for knob in path.knobs:
            value = getattr(args, knob.name, None)
            if value is not None:
                parameters[knob.parameter] = value
    return replace(profile, parameters=parameters)


def _check_local_flags(args: argparse.Namespace) -> None:
    if args.users < 1:
        raise ValueError(f"--users must be at least 1, got {args.users}")
    if args.glue_warm_up_batches is not None and args.glue_warm_up_batches < 0:
        raise ValueError(f"--glue-warm-up-batches must be 0 or more, got {args.glue_warm_up_batches}")
    if args.glue_kpl_deaggregation == "off" and not args.kpl_aggregation:
        raise ValueError("--glue-kpl-deaggregation off only matters with --kpl-aggregation")
    if args.glue_kpl_deaggregation == "off" and args.driver == "locust":
        raise ValueError(
            "--glue-kpl-deaggregation off needs the harness's producer (--driver producer): the run counts the "
            "Kinesis records it sent to know when the Glue job has read them all"
        )


def _check_aws_flags(args: argparse.Namespace) -> None:
    if not args.stack:
        raise ValueError("--mode aws needs --stack NAME: the CloudFormation stack `sam deploy` created")
    given = [knob.flag for path in PATHS for knob in path.knobs if getattr(args, knob.name, None) is not None]
    local_only = [
        flag
        for flag, on in (
            ("--chaos", args.chaos),
            ("--driver locust", args.driver == "locust"),
            ("--users", args.users != USERS),
            ("--kpl-aggregation", args.kpl_aggregation),
            ("--glue-kpl-deaggregation", args.glue_kpl_deaggregation != "on"),
            ("--glue-warm-up-batches", args.glue_warm_up_batches is not None),
        )
        if on
    ]
    if given or local_only:
        raise ValueError(
            f"{', '.join(given + local_only)} only apply to --mode local: a deployed stack runs with its own "
            "parameters (change them with sam deploy --parameter-overrides)"
        )


def cmd_run(args: argparse.Namespace) -> int:
    """Run the comparison and print where the report is."""
    catalogue = profiles()
    if args.profile not in catalogue:
        raise ValueError(f"unknown profile {args.profile!r}: choose from {', '.join(catalogue)}")
    profile = with_flags(catalogue[args.profile], args)
    if args.mode == "aws":
        _check_aws_flags(args)
    else:
        _check_local_flags(args)
        # A bad parameter value is a usage error, before anything starts.
        profile.template()
    config = workload_config(args, rate=profile.rate, duration_s=profile.duration_s)
    console = Console()
    out = Path(args.out)
    try:
        if args.mode == "aws":
            return _run_aws(args, config, out, console)
        chaos = ChaosPlan() if args.chaos else None
        report = run_local(
            profile,
            config,
            out,
            console,
            chaos,
            driver=args.driver,
            users=args.users,
            kpl_aggregation=args.kpl_aggregation,
            glue_kpl_deaggregation=args.glue_kpl_deaggregation == "on",
            glue_warm_up_batches=args.glue_warm_up_batches,
        )
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: what the run started was stopped; no report written")
        return 130
    return _summary(report, out, console)


def _run_aws(args: argparse.Namespace, config: WorkloadConfig, out: Path, console: Console) -> int:
    from comparison.aws.run import run_aws
    from comparison.aws.stack import AwsError
    from comparison.producer import ProducerError

    try:
        report = run_aws(args.stack, config, out, console, args.yes, args.glue_run_id, args.region)
    except (AwsError, ProducerError) as error:
        console.print(f"[red]error:[/red] {error}")
        return 1
    return _summary(report, out, console)


def _summary(report: dict[str, Any], out: Path, console: Console) -> int:
    for name, path in report["paths"].items():
        latency, counts = path["latency_s"], path["counts"]
        console.print(
            f"{name}: delivered {counts['delivered']:,}, unaccounted {counts['unaccounted']}, "
            f"latency p50 {latency['p50']} s, p99 {latency['p99']} s"
        )
    console.print(f"report: {out / 'report.md'} (also report.json, report.html)")
    if not report["run"]["driver"].get("complete", True):
        console.print("[red]the locust producer did not send the whole workload: the report covers what it sent")
        return 1
    return 0


def add_run_parser(commands) -> None:
    """Register `run` on the CLI."""
    parser = commands.add_parser("run", help="run both paths on one workload and write the report")
    parser.add_argument("--mode", choices=["local", "aws"], default="local")
    parser.add_argument("--profile", default="quick", help="quick (default) or aws-defaults")
    parser.add_argument("--out", default="runs/latest", help="run folder (default runs/latest)")
    workload_arguments(parser)
    for path in PATHS:
        for knob in path.knobs:
            parser.add_argument(knob.flag, type=knob.kind, help=f"{knob.help} (template parameter {knob.parameter})")
    parser.add_argument("--stack", help="--mode aws: the deployed stack's name")
    parser.add_argument("--region", help="--mode aws: the stack's region (default: AWS_REGION or the profile's)")
    parser.add_argument("--yes", action="store_true", help="--mode aws: start without asking (scripts)")
    parser.add_argument("--glue-run-id", help="--mode aws: measure this running job run instead of starting one")
    parser.add_argument(
        "--driver",
        choices=["producer", "locust"],
        default="producer",
        help="what produces the workload: the harness's producer (default) or locust users, whose CSV "
        "statistics go to <out>/load/",
    )
    parser.add_argument("--users", type=int, default=USERS, help="locust users sharing the workload (default 2)")
    parser.add_argument(
        "--chaos",
        action="store_true",
        help="inject faults: SIGKILL the Glue runner twice, a Kinesis outage, failing and slow Lambda invocations, "
        "oversized records; the report still accounts for every record",
    )
    parser.add_argument(
        "--kpl-aggregation",
        action="store_true",
        help="send the workload as KPL-aggregated records (Firehose unpacks them before the Lambda)",
    )
    parser.add_argument(
        "--glue-kpl-deaggregation",
        choices=["on", "off"],
        default="on",
        help="whether the local Glue source unpacks KPL aggregates (on, the default, as Spark's Kinesis "
        "connectors do; Glue does not document it); off hands them to the job whole",
    )
    parser.add_argument(
        "--glue-warm-up-batches",
        type=int,
        metavar="N",
        help="micro-batches of about 1,500 events the local Glue job runs on a stream of its own before it starts, "
        "so that it is measured warm, as a long-running job runs (default: the profile's, 20; 0 for none)",
    )
    parser.set_defaults(handler=cmd_run)
