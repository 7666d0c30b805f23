"""A Spark standalone cluster on this machine: one master and workers, started from the PySpark installation.

Path B's local runtime takes any Spark master URL (`python -m comparison.local.glue_runner --master URL`), so
the same Glue entry runs on `local[2]`, on this cluster, or on an existing cluster (`spark://host:7077`,
`yarn`, `k8s://...`) whose executors run this project's Python (the same version, with the project
installed). On AWS the scale-out is Glue's own: its workers (`GlueNumberOfWorkers`, `GlueWorkerType`) and,
with `GlueAutoScaling`, Glue adding and removing executors as the backlog asks; there is no cluster to manage.

    python -m comparison.local.cluster --workers 2     # prints the master URL; Ctrl-C stops the cluster

Everything binds to 127.0.0.1; the daemons' logs and the workers' scratch folders go to one folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def spark_home() -> Path:
    """The PySpark installation, which carries Spark's launch scripts and jars."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


class ClusterError(RuntimeError):
    """The cluster did not start: the message says which daemon, and where its log is."""


class StandaloneCluster:
    """A master and `workers` workers of `cores` cores and `memory` each; a context manager."""

    def __init__(self, workers: int = 2, cores: int = 1, memory: str = "2g", folder: Path | None = None) -> None:
        if workers < 1 or cores < 1:
            raise ValueError("a cluster needs at least one worker of at least one core")
        self.workers, self.cores, self.memory = workers, cores, memory
        self._own_folder = folder is None
        self.folder = Path(folder or tempfile.mkdtemp(prefix="spark-cluster-"))
        self.port, self.ui_port = _free_port(), _free_port()
        self.processes: list[tuple[str, subprocess.Popen, IO[str]]] = []

    @property
    def master_url(self) -> str:
        """The URL a SparkSession connects to."""
        return f"spark://{HOST}:{self.port}"

    def _start(self, name: str, *arguments: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": HOST,
            # Workers keep each application's files here, not inside the Python environment.
            "SPARK_WORKER_DIR": str(self.folder / "work"),
        }
        command = [str(spark_home() / "bin" / "spark-class"), *arguments]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.processes.append((name, process, log))

    def status(self) -> dict:
        """The master's state (its JSON page): workers, their state and cores."""
        with urllib.request.urlopen(f"http://{HOST}:{self.ui_port}/json/", timeout=5) as response:
            return json.loads(response.read())

    def _wait(self, ready, what: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, process, _ in self.processes:
                if process.poll() is not None:
                    log = self.folder / f"{name}.log"
                    raise ClusterError(f"the Spark {name} exited (code {process.returncode}): see {log}")
            try:
                if ready(self.status()):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise ClusterError(f"{what} within {timeout_s:.0f} s: see the logs in {self.folder}")

    def start(self, timeout_s: float = 180.0) -> StandaloneCluster:
        """Start the master, then the workers; return once every worker has registered."""
        master = "org.apache.spark.deploy.master.Master"
        self._start("master", master, "--host", HOST, "--port", str(self.port), "--webui-port", str(self.ui_port))
        try:
            self._wait(lambda state: state.get("status") == "ALIVE", "the master did not come up", timeout_s)
            for index in range(self.workers):
                self._start(
                    f"worker-{index}",
                    "org.apache.spark.deploy.worker.Worker",
                    *("--host", HOST, "--port", str(_free_port()), "--webui-port", str(_free_port())),
                    *("--cores", str(self.cores), "--memory", self.memory, self.master_url),
                )

            def registered(state: dict) -> bool:
                return sum(w.get("state") == "ALIVE" for w in state.get("workers", [])) >= self.workers

            self._wait(registered, f"{self.workers} workers did not register with the master", timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the workers, then the master (SIGTERM, then SIGKILL after 20 s)."""
        for _, process, log in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.close()
        self.processes.clear()
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Run a cluster until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m comparison.local.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cores", type=int, default=1, help="cores per worker (default 1)")
    parser.add_argument("--memory", default="2g", help="memory per worker (default 2g)")
    parser.add_argument("--folder", type=Path, help="logs and scratch space (default: a temporary folder)")
    args = parser.parse_args(argv)
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with StandaloneCluster(args.workers, args.cores, args.memory, args.folder) as cluster:
            started = {"event": "started", "master": cluster.master_url, "logs": str(cluster.folder)}
            print(json.dumps(started), flush=True)
            while not stopping:
                time.sleep(0.5)
    except (ClusterError, ValueError) as error:
        print(f"error: {error}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
