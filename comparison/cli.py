"""Command line of the harness: `python -m comparison <command>` (also installed as `etl-compare`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from comparison.arguments import workload_arguments, workload_config
from comparison.inputs import input_row, write_rows
from comparison.workload import build_registry, generate, registry_json_lines


def cmd_generate(args: argparse.Namespace) -> int:
    """Write the workload as JSON Lines (input-file format) without sending it anywhere."""
    config = workload_config(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as stream:
        count = write_rows(stream, (input_row(e, e.scheduled_ms) for e in generate(config, args.start_ms)))
    if args.registry:
        Path(args.registry).write_bytes(registry_json_lines(build_registry(config)))
    print(json.dumps({"events": count, "out": str(out), "registry": args.registry}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="python -m comparison", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate_parser = commands.add_parser("generate", help="write the workload as JSON Lines")
    workload_arguments(generate_parser)
    generate_parser.add_argument("--out", required=True, help="events file to write")
    generate_parser.add_argument("--registry", help="also write the device registry (JSON Lines) here")
    generate_parser.add_argument("--start-ms", type=int, default=1_764_288_000_000, help="first send time")
    generate_parser.set_defaults(handler=cmd_generate)

    from comparison.advise import add_advise_parser
    from comparison.run import add_run_parser
    from comparison.study.cli import add_study_parser

    add_run_parser(commands)
    add_study_parser(commands)
    add_advise_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
