"""The Firehose simulator's own ceiling: how fast path A's local stand-in drains a backlog (`make bench`).

On one kinesalite and one moto S3, a backlog of about 30,000 records of the comparison workload:
- baseline: producing it (`KinesisProducer`, PutRecords of up to 500): what the local Kinesis takes in;
- the simulator with the quick profile's settings (zero buffering) and the real handler in-process,
  from its first poll until every record has a verdict (delivered, dropped or failed) and is in S3.
A simulator slower than the baseline cannot keep up with what the local Kinesis can be sent, and would
set the local comparison's ceiling instead of the architecture.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.harness import Row
from comparison.local.firehose import FirehoseSimulator
from comparison.local.firehose_settings import FirehoseSettings
from comparison.local.lambda_runtime import LocalLambda
from comparison.local.servers import Kinesalite, MotoServer, client, create_stream
from comparison.producer import KinesisProducer, now_ms
from comparison.run import profiles
from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines

BACKLOG = 30_000
BENCH = "firehose simulator (quick profile, kinesalite, moto S3)"


def rows() -> tuple[list[Row], list[str]]:
    """The producer's rate into kinesalite, and the simulator's drain rate of the same records."""
    folder = Path(tempfile.mkdtemp(prefix="bench-firehose-"))
    try:
        with Kinesalite() as kinesalite, MotoServer() as moto:
            kinesis, s3 = client("kinesis", kinesalite.endpoint), client("s3", moto.endpoint)
            create_stream(kinesis, "backlog", shards=2)
            s3.create_bucket(Bucket="bench")
            config = WorkloadConfig(seed=51, rate=BACKLOG / 10, duration_s=10)
            events = list(generate(config, now_ms()))
            started = time.perf_counter()
            sent = len(KinesisProducer(kinesis, "backlog").send(events))
            produce_s = time.perf_counter() - started
            registry = folder / "devices.jsonl"
            registry.write_bytes(registry_json_lines(build_registry(config)))
            template = profiles()["quick"].template()
            environment = {"DEVICE_REGISTRY": str(registry)}
            handler = LocalLambda(template, log_path=folder / "lambda.log", environment=environment)
            simulator = FirehoseSimulator(
                FirehoseSettings.from_template(template),
                kinesis=kinesis,
                stream_name="backlog",
                s3=s3,
                bucket="bench",
                handler=handler,
                checkpoint_path=folder / "checkpoint.json",
            )
            stop = threading.Event()
            worker = threading.Thread(target=simulator.run, args=(stop,), daemon=True)
            started = time.perf_counter()
            worker.start()
            stats = simulator.stats
            while stats["ok"] + stats["dropped"] + stats["processing_failed"] < sent or simulator.pending():
                if not worker.is_alive():
                    raise RuntimeError("the Firehose simulator stopped before draining the backlog")
                time.sleep(0.05)
            drain_s = time.perf_counter() - started
            stop.set()
            worker.join(30)
            handler.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    baseline = Row(BENCH, "producing the backlog into kinesalite (baseline)", sent, produce_s)
    drain = Row(BENCH, "the simulator draining it (handler in-process)", sent, drain_s, baseline=baseline.variant)
    note = (
        f"firehose simulator: drains {drain.rate:,.0f} records/s with the quick profile, "
        f"{drain.rate / baseline.rate:.2f}x the {baseline.rate:,.0f} records/s kinesalite took them in at "
        f"({sent:,} records; {stats['invocations']:,} Lambda invocations)."
    )
    return [baseline, drain], [note]


if __name__ == "__main__":
    found, notes = rows()
    for row in found:
        print(row.variant, f"{row.rate:,.0f}/s")
    print(*notes, sep="\n")
