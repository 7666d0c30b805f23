"""Copies of a batch's records that the local Kinesis source (`kinesis_source`) keeps besides Kinesis: the driver's
read-ahead files, and each executor process's cache of finished reads.

The files: the records the driver has read to find where a batch ends, handed to the executors so that they need
not read Kinesis again.
One folder per reader, under Spark's local folder for the process when it names one (Spark deletes it when the
application ends), else the system's temporary folder; the folder's name carries the reader's process id, so that
a later reader removes the folders of readers whose process ended without removing theirs (Spark ends a stopped
query's reader process without calling its `stop`). One Arrow IPC file per shard range, written under a hidden
name and renamed, so that an executor never opens half a file; removed once its batch commits.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import pyarrow as pa

PREFIX = "kinesis-read-ahead-"
# Finished reads kept per executor process for the pipeline's repeated scans of one batch.
CACHE_BYTES = 256 * 1024 * 1024


def read(path: str) -> pa.RecordBatch | None:
    """The records of a file, or None where this process cannot read it (another machine, another user, a file
    gone or damaged): the caller then reads Kinesis."""
    try:
        with pa.OSFile(path) as source:
            return pa.ipc.open_file(source).get_batch(0)
    except (OSError, pa.ArrowInvalid):
        return None


def _root() -> str | None:
    folders = [folder for folder in os.environ.get("SPARK_LOCAL_DIRS", "").split(",") if folder]
    return folders[0] if folders and os.path.isdir(folders[0]) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _sweep(root: Path) -> None:
    """Remove the folders of readers whose process has ended without removing them."""
    for folder in root.glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


class SpillFolder:
    """One reader's files: written as it plans batches, removed as they commit and when it stops."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        # (shard, the range's last sequence number as an integer, path)
        self.files: list[tuple[str, int, Path]] = []

    def write(self, shard_id: str, end: str, batch: pa.RecordBatch) -> str | None:
        """The path of a new file holding `batch`, the records of `shard_id` up to sequence `end`; None when it
        cannot be written (a full or read-only disk: the executors read Kinesis)."""
        try:
            if self.folder is None:
                root = _root()
                _sweep(Path(root or tempfile.gettempdir()))
                self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
            path = self.folder / f"{shard_id}-{end}.arrow"
            hidden = path.with_name(f".{path.name}")
            with pa.OSFile(str(hidden), "wb") as sink, pa.ipc.new_file(sink, batch.schema) as writer:
                writer.write_batch(batch)
            hidden.replace(path)
        except OSError:
            return None
        self.files.append((shard_id, int(end), path))
        return str(path)

    def commit(self, committed: dict[str, int | None]) -> None:
        """Remove the files of ranges ending at or before each shard's committed sequence number."""
        kept = []
        for shard_id, last, path in self.files:
            done = committed.get(shard_id)
            if done is not None and last <= done:
                path.unlink(missing_ok=True)
            else:
                kept.append((shard_id, last, path))
        self.files = kept

    def remove(self) -> None:
        """Remove the folder and every file in it."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder, self.files = None, []


class ReadCache:
    """Finished shard ranges as Arrow batches, least recently used evicted first, by size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.batches: OrderedDict[tuple, pa.RecordBatch] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> pa.RecordBatch | None:
        with self.lock:
            batch = self.batches.get(key)
            if batch is not None:
                self.batches.move_to_end(key)
            return batch

    def put(self, key: tuple, batch: pa.RecordBatch) -> None:
        with self.lock:
            self.batches[key] = batch
            while sum(b.nbytes for b in self.batches.values()) > self.max_bytes and len(self.batches) > 1:
                self.batches.popitem(last=False)


CACHE = ReadCache(CACHE_BYTES)
