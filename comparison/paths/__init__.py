"""The registry of compared paths: adding a path is adding a module here and its entry in PATHS."""

from __future__ import annotations

from comparison.paths import firehose_lambda, kinesis_glue
from comparison.paths.base import PathSpec

PATHS: tuple[PathSpec, ...] = (firehose_lambda.PATH, kinesis_glue.PATH)
TITLES = {path.name: path.title for path in PATHS}
