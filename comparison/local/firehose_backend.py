"""Path A run locally: the Firehose simulator on a thread, calling the real handler in-process."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from comparison import response_size
from comparison.chaos import FlakyHandler
from comparison.local.environment import LocalTarget
from comparison.local.firehose import FirehoseSimulator
from comparison.local.lambda_runtime import LocalLambda
from comparison.paths.base import Produced
from comparison.paths.firehose_lambda import settings, settings_section


class FirehoseLocal:
    """The delivery stream of the template, simulated against the local Kinesis and S3."""

    def __init__(self, local: LocalTarget) -> None:
        self.local = local
        # Under chaos the function's time limit is shortened so that injected slow invocations time out quickly.
        limits = {"timeout_s": local.chaos.lambda_timeout_s} if local.chaos else {}
        self.settings = settings(local.template, **limits)
        self.handler = LocalLambda(
            local.template,
            log_path=local.out / "logs" / "lambda.log",
            environment={"DEVICE_REGISTRY": str(local.registry)},
        )
        # After the function's environment is in place: measuring imports the handler.
        self.growth = response_size.measure(local.config)
        too_large = response_size.warning(self.growth, self.settings.processor_buffer_mb)
        if too_large:
            local.console.print(f"[yellow]warning:[/yellow] {too_large}")
        self.flaky = FlakyHandler(self.handler, local.chaos) if local.chaos else None
        self.s3 = local.client("s3")
        self.simulator = FirehoseSimulator(
            self.settings,
            kinesis=local.client("kinesis"),
            stream_name=local.stream,
            s3=self.s3,
            bucket=local.bucket,
            handler=self.flaky or self.handler,
            checkpoint_path=local.out / "state" / "firehose-checkpoint.json",
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.simulator.run, args=(self._stop,), daemon=True)

    def start(self) -> None:
        """Start polling the stream."""
        self._thread.start()

    def wait_ready(self) -> float | None:
        """Nothing to wait for: the simulator polls from its start."""
        return None

    def counts(self) -> dict[str, int]:
        """Records taken in, processed, delivered and failed so far."""
        stats = self.simulator.stats
        return {
            "firehose_received": stats["received"],
            "firehose_processed": stats["ok"] + stats["dropped"] + stats["processing_failed"],
            "firehose_ok": stats["ok"],
            "firehose_failed": stats["processing_failed"],
        }

    def status(self) -> str:
        """Delivered so far."""
        return f"firehose+lambda delivered {self.simulator.stats['ok']:,}"

    def mark(self) -> tuple:
        """Changes with every record taken in or delivered."""
        return self.simulator.stats["received"], self.simulator.pending()

    def caught_up(self, produced: Produced) -> bool:
        """Every record produced so far read and none left in the buffers."""
        return self.simulator.stats["received"] >= produced.records and self.simulator.pending() == 0

    def drained(self, produced: Produced) -> bool:
        """Every produced record read and none left in the buffers."""
        return self.caught_up(produced)

    def wants_tick(self, produced: Produced) -> bool:
        """Buffers flush on time alone: no tick needed."""
        return False

    def healthy(self) -> bool:
        """The simulator thread runs until stopped."""
        return self._thread.is_alive() or self._stop.is_set()

    def restart(self) -> bool:
        """The simulator survives its own faults (it retries): nothing to restart."""
        return False

    def stop(self) -> None:
        """Stop polling, deliver what the buffers hold, close the function's log."""
        if not self._stop.is_set():
            self._stop.set()
            if self._thread.is_alive():
                self._thread.join(30)
            self.simulator.flush()
        self.handler.close()

    def collect(self, out: Path) -> dict[str, Any]:
        """Copy the bucket's objects and the simulator's timelines and counters into the run folder."""
        self.stop()
        copied = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.local.bucket):
            for item in page.get("Contents", []):
                target = out / "sinks" / "firehose_lambda" / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.s3.get_object(Bucket=self.local.bucket, Key=item["Key"])["Body"].read())
                copied += 1
        with open(out / "timings" / "firehose.jsonl", "w") as stream:
            for timeline in self.simulator.timelines.values():
                stream.write(json.dumps(asdict(timeline)) + "\n")
        stats = self.simulator.stats
        (out / "timings" / "firehose_stats.json").write_text(json.dumps(stats, indent=1))
        return {
            "settings": {**settings_section(self.settings), "response": self.growth.to_json(), "objects": copied},
            "kpl": {
                "firehose_aggregates_unpacked": stats["kpl_aggregates"],
                "firehose_aggregates_malformed": stats["kpl_malformed"],
            },
            "chaos": {
                "lambda": self.flaky.counts if self.flaky else None,
                "firehose_service_errors": stats.get("service_errors", 0),
            },
        }
