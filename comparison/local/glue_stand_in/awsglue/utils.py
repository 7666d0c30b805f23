"""`getResolvedOptions`, as in the public awsglue library (awslabs/aws-glue-libs, awsglue/utils.py)."""

from __future__ import annotations

import argparse

# Arguments Glue sets itself; a job may not ask for them by name.
RESERVED = ("job-bookmark-option", "continuation-option", "JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION")


class GlueArgumentError(Exception):
    """A job argument is missing or malformed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise GlueArgumentError(message)


def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, str]:
    """The job arguments named in `options`, from `args` (`sys.argv`: `--NAME value` pairs after the script).

    Every name asked for is required; arguments not asked for are ignored, as Glue passes many.
    """
    reserved = [name for name in options if name in RESERVED[:2]]
    if reserved:
        raise RuntimeError(f"Using reserved arguments {', '.join(reserved)}")
    parser = _Parser(allow_abbrev=False)
    for name in ("JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION", "TempDir", "RedshiftTempDir"):
        parser.add_argument(f"--{name}", required=False)
    for name in options:
        if name not in ("JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION", "TempDir", "RedshiftTempDir"):
            parser.add_argument(f"--{name}", required=True)
    parsed, _ = parser.parse_known_args(args[1:])
    return vars(parsed)
