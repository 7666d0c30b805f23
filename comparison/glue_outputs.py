"""Reading what the Glue job wrote (the layout of `glue_streaming.storage`), without Spark.

Only batches with a manifest count: a batch without one was interrupted, and its replay will rewrite
its files. As Spark's readers do, files under a folder whose name starts with "_" or "." are not data: a write
stages its files there (`_temporary`, and `.spark-staging-*` for the curated output's dynamic overwrite), and a
job killed while writing leaves them behind, partly written. Parquet is read with pyarrow, JSON Lines with the
standard library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from glue_streaming.layout import MANIFESTS, OUTPUTS


def manifests(root: Path) -> list[dict[str, Any]]:
    """Every finished batch's manifest, by batch id."""
    found = []
    for path in sorted((Path(root) / MANIFESTS).glob("batch_id=*/part-*")):
        found.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return sorted(found, key=lambda m: m["batch_id"])


def triggered_ms(manifest: dict[str, Any]) -> int:
    """When a micro-batch began: its trigger (`started_at_ms` in manifests written before the trigger was kept)."""
    return int(manifest.get("triggered_at_ms", manifest["started_at_ms"]))


def _batch_of(path: Path) -> int | None:
    for part in path.parts:
        if part.startswith("batch_id="):
            return int(part.split("=", 1)[1])
    return None


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)


def _partition_values(path: Path, root: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for part in path.relative_to(root).parts[:-1]:
        if "=" in part:
            key, value = part.split("=", 1)
            values[key] = int(value) if key in ("event_hour", "batch_id") else value
    return values


def read_output(root: Path, name: str, committed: set[int] | None = None) -> list[dict[str, Any]]:
    """The rows of one output, with partition values as columns, from committed batches only."""
    root = Path(root)
    relative, form = OUTPUTS[name]
    folder = root / relative
    if committed is None:
        committed = {m["batch_id"] for m in manifests(root)}
    rows: list[dict[str, Any]] = []
    pattern = "part-*.parquet" if form == "parquet" else "part-*.json"
    for path in sorted(folder.rglob(pattern)):
        if _batch_of(path) not in committed or _hidden(path, folder):
            continue
        extra = _partition_values(path, folder)
        if form == "parquet":
            for row in pq.read_table(path).to_pylist():
                rows.append({**row, **extra})
        else:
            rows.extend({**json.loads(line), **extra} for line in path.read_text().splitlines() if line.strip())
    return rows


def read_outputs(root: Path, committed: set[int] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every output of the job under `root`, from the committed batches (read from the manifests if not given)."""
    if committed is None:
        committed = {m["batch_id"] for m in manifests(root)}
    return {name: read_output(root, name, committed) for name in OUTPUTS}
