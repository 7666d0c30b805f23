"""`awsglue.job.Job`: a streaming job's `init` and `commit` (bookmarks do not apply to streaming jobs)."""

from __future__ import annotations

from typing import Any


class Job:
    """One run of a Glue job."""

    def __init__(self, glue_context: Any) -> None:
        self.glue_context = glue_context
        self.name: str | None = None
        self.args: dict[str, str] = {}

    def init(self, job_name: str, args: dict[str, str] | None = None) -> None:
        """Start the run under `job_name` with its resolved arguments."""
        if not job_name:
            raise ValueError("Job.init needs the job's name (the JOB_NAME argument)")
        self.name, self.args = job_name, dict(args or {})

    def isInitialized(self) -> bool:
        """Whether `init` was called."""
        return self.name is not None

    def commit(self) -> None:
        """End the run; `init` must come first."""
        if self.name is None:
            raise RuntimeError("Job.commit before Job.init")
