"""`python -m benchmarks` (`make bench`): run every benchmark, print a table, keep the results."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import contract, lambda_handler
from benchmarks.harness import Row, ratio, save

COMMAND = "make bench"
GLUE_PYTHON = Path(__file__).resolve().parents[1] / ".venv-glue-4.0" / "bin" / "python"


def glue_runtime_rows(console: Console) -> list[Row]:
    """The Spark contract bench in the AWS Glue 4.0 environment (Python 3.10, PySpark 3.3.0)."""
    if not GLUE_PYTHON.exists():
        console.print("[yellow]skipped[/]: .venv-glue-4.0 is missing (make setup creates it)")
        return []
    # This process's PYSPARK_PYTHON names Python 3.11; the Glue runtime's workers must run its own 3.10.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPARK_")}
    result = subprocess.run(
        [str(GLUE_PYTHON), "-m", "benchmarks.contract"],
        capture_output=True,
        text=True,
        env=env,
        cwd=GLUE_PYTHON.parents[2],
    )
    if result.returncode != 0:
        raise RuntimeError(f"the Glue 4.0 runtime bench failed:\n{result.stderr[-3000:]}")
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    rows = []
    for raw in payload["rows"]:
        raw["bench"] = f"spark contract (Spark {payload['spark']}, Glue 4.0)"
        rows.append(Row(**raw))
    return rows


def _on_spark(name: str, bench, master: str = "local[2]"):
    """`bench(spark)` on a new local SparkSession (or one connected to `master`), stopped afterwards."""
    from comparison.local.spark import build_spark_session

    spark = build_spark_session(name, master=master)
    try:
        return bench(spark)
    finally:
        spark.stop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument(
        "--only",
        choices=["contract", "lambda", "firehose", "glue", "micro_batch"],
        action="append",
        help="run only these benches",
    )
    args = parser.parse_args()
    selected = set(args.only or ["contract", "lambda", "firehose", "glue", "micro_batch"])
    console = Console()
    rows: list[Row] = []
    notes: list[str] = []
    if "contract" in selected:
        console.print("[bold]contract[/]: Python per-record transform")
        rows += contract.python_rows()
        console.print("[bold]contract[/]: Spark native expressions against a Python UDF")

        def spark_contract(spark) -> list[Row]:
            found = contract.spark_rows(spark)
            for row in found:
                row.bench = f"spark contract (Spark {spark.version})"
            return found

        rows += _on_spark("benchmarks", spark_contract)
        console.print("[bold]contract[/]: the same on the AWS Glue 4.0 runtime (PySpark 3.3.0, Python 3.10)")
        rows += glue_runtime_rows(console)
    if "lambda" in selected:
        console.print("[bold]lambda[/]: the Firehose handler on 1 MB and 3 MB batches")
        with tempfile.TemporaryDirectory() as folder:
            lambda_rows = lambda_handler.rows(Path(folder) / "devices.jsonl")
        rows += lambda_rows
        floor = lambda_handler.ratios_to(lambda_rows, "bare floor (orjson, no transform)")
        core = lambda_handler.ratios_to(lambda_rows, "handler core (no observability)")
        for bench in sorted(floor):
            notes.append(
                f"{bench}: the handler runs at {floor[bench]:.2f}x the bare floor's rate; Powertools costs "
                f"{(1 - core[bench]) * 100:.1f}% against the handler core."
            )
    if "firehose" in selected:
        console.print("[bold]firehose[/]: the Firehose simulator draining a backlog")
        from benchmarks import firehose_sim

        firehose_rows, firehose_notes = firehose_sim.rows()
        rows += firehose_rows
        notes += firehose_notes
    if "glue" in selected:
        console.print("[bold]glue[/]: the Glue pipeline on local Spark against kinesalite (a few minutes)")
        from benchmarks import glue_stream

        glue_rows, glue_notes = _on_spark("bench-glue", glue_stream.rows)
        console.print("[bold]glue[/]: the same backlog drained on a Spark standalone cluster (2 workers)")
        from comparison.local.cluster import StandaloneCluster

        with StandaloneCluster(workers=2, cores=1) as cluster:
            cluster_rows, _ = _on_spark(
                "bench-glue-cluster", lambda spark: glue_stream.cluster_rows(spark, 2), cluster.master_url
            )
        local_drain = next(r for r in glue_rows if r.variant == glue_stream.DRAIN)
        glue_notes.append(
            f"glue path on a standalone cluster of 2 one-core workers (a master and 2 workers on this machine): "
            f"{cluster_rows[0].rate:,.0f} records/s, {cluster_rows[0].rate / local_drain.rate:.2f}x local[2]."
        )
        rows += glue_rows + cluster_rows
        notes += glue_notes
    if "micro_batch" in selected:
        console.print("[bold]micro_batch[/]: one Glue micro-batch split into its parts (a few minutes)")
        from benchmarks import micro_batch

        batch_rows, batch_notes = _on_spark("bench-micro-batch", micro_batch.rows)
        rows += batch_rows
        notes += batch_notes
    table = Table(title="benchmarks (ratios against a baseline measured in the same run)")
    for column in ("bench", "variant", "items", "seconds", "rate", "ratio"):
        table.add_column(column, justify="right" if column in ("items", "seconds", "rate") else "left")
    for row in rows:
        r = ratio(rows, row)
        table.add_row(
            row.bench,
            row.variant,
            f"{row.items:,}",
            f"{row.seconds:.3f}",
            f"{row.rate:,.0f} {row.unit}",
            f"{r:.2f}x {row.baseline}" if r is not None else "baseline",
        )
    console.print(table)
    save(rows, COMMAND, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
