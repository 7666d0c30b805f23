"""Faults for `python -m comparison run --chaos`: the run must still account for every produced record.

- `FlakyProxy`: a TCP proxy in front of the local Kinesis; `outage(seconds)` refuses and drops every
  connection for that long, so producer and consumers must back off and recover.
- `FlakyHandler`: wraps the transformation Lambda; every 7th invocation raises, every 11th outlives the
  function's time limit (the simulator then fails it as Firehose would). A fixed schedule rather than
  chance, so that a short run is sure to see both.
- `oversize`: turns a seeded fraction of malformed records into records over the contract's 32 KiB limit
  (still under Kinesis's 1 MiB), which both paths must refuse with reason `too_large`.
- SIGKILL of the Glue runner, twice, is driven by the run itself (`comparison.run`).
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from comparison.workload import Event, Intent
from shared import contract as c


@dataclass(frozen=True)
class ChaosPlan:
    """What goes wrong, and when (as fractions of the production time)."""

    kill_glue_at: tuple[float, ...] = (0.3, 0.7)
    outage_at: float = 0.5
    outage_s: float = 5.0
    lambda_fail_every: int = 7
    lambda_slow_every: int = 11
    lambda_timeout_s: float = 1.0
    oversized_fraction: float = 0.3
    seed: int = 99


class FlakyProxy:
    """Forwards 127.0.0.1:port to a target port, except during an outage."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.down_until = 0.0
        self.refused = 0
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if time.monotonic() < self.down_until:
                self.refused += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with self.lock:
                    self.connections.discard(sock)
                with contextlib.suppress(OSError):
                    sock.close()

    def outage(self, seconds: float) -> None:
        """Drop every open connection and refuse new ones for `seconds`."""
        self.down_until = time.monotonic() + seconds
        with self.lock:
            open_now = list(self.connections)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop accepting."""
        self.closed = True
        self.listener.close()


class FlakyHandler:
    """The real handler, except that some invocations raise and some run past the time limit."""

    def __init__(self, handler: Callable[[dict, Any], Any], plan: ChaosPlan) -> None:
        self.handler = handler
        self.plan = plan
        self.lock = threading.Lock()
        self.counts = {"invocations": 0, "raised": 0, "timed_out": 0}

    def __call__(self, event: dict, context: Any) -> Any:
        with self.lock:
            self.counts["invocations"] += 1
            number = self.counts["invocations"]
            fail = number % self.plan.lambda_fail_every == 0
            slow = not fail and number % self.plan.lambda_slow_every == 0
            self.counts["raised"] += fail
            self.counts["timed_out"] += slow
        if fail:
            raise RuntimeError("chaos: injected failure")
        result = self.handler(event, context)
        if slow:
            time.sleep(self.plan.lambda_timeout_s + 0.2)
        return result


def oversize(events: Iterator[Event], plan: ChaosPlan) -> Iterator[Event]:
    """The events, with a fraction of the malformed ones replaced by records over the contract's size limit."""
    rng = random.Random(plan.seed + 1)
    for event in events:
        if event.intent.kind == "malformed" and event.original is None and rng.random() < plan.oversized_fraction:
            padding = "x" * (c.MAX_EVENT_BYTES + 8 * 1024)
            raw = f'{{"event_id":"{event.event_id}","padding":"{padding}"}}'.encode()
            event = replace(event, raw=raw, intent=Intent(kind="malformed", reason=c.TOO_LARGE))
        yield event
