"""The workload's command-line arguments, shared by the commands that generate or produce a workload."""

from __future__ import annotations

import argparse

from comparison.workload import WorkloadConfig


def workload_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --seed, --rate, --duration and --devices."""
    parser.add_argument("--seed", type=int, default=7, help="workload seed (default 7)")
    parser.add_argument("--rate", type=float, help="events per second (default: the profile's)")
    parser.add_argument("--duration", type=float, help="seconds of production (default: the profile's)")
    parser.add_argument("--devices", type=int, help="devices in the registry")


def workload_config(args: argparse.Namespace, **defaults) -> WorkloadConfig:
    """The workload the arguments describe, over `defaults`."""
    values = dict(defaults)
    for name, attribute in (("rate", "rate"), ("duration", "duration_s"), ("devices", "devices"), ("seed", "seed")):
        if getattr(args, name, None) is not None:
            values[attribute] = getattr(args, name)
    return WorkloadConfig(**values)
