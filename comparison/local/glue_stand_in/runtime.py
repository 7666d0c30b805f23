"""How the local runner reaches the job that `glue_job.py` runs under the stand-in.

One job runs per process, as on Glue: `RUNTIME` holds the Data Catalog tables the job may read (from
template.yaml: per (database, table), its `parameters` and its columns as a DDL `schema`) and whether
the Kinesis source unpacks KPL aggregates, is told when the streaming query starts, and asks it to stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Runtime:
    """The running job's side door: catalog tables in, the query out, a stop request."""

    catalog: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Whether the Kinesis source unpacks KPL aggregates (Glue's behaviour is not documented).
    kpl_deaggregation: bool = True
    on_query_started: Callable[[Any], None] | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    query: Any = None

    def started(self, query: Any) -> None:
        """Called by forEachBatch with each query it starts (a restart after a failure too)."""
        self.query = query
        if self.on_query_started:
            self.on_query_started(query)

    def request_stop(self) -> None:
        """Stop the job: its query stops, and forEachBatch returns instead of restarting it."""
        self.stopping.set()
        query = self.query
        if query is not None and query.isActive:
            query.stop()

    def reset(self) -> None:
        """Ready for the next job of this process."""
        self.catalog, self.on_query_started, self.query = {}, None, None
        self.kpl_deaggregation = True
        self.stopping = threading.Event()


RUNTIME = Runtime()
