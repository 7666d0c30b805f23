"""The transformation function run in-process, configured as template.yaml configures it in Lambda.

Its environment comes from the function's (and Globals') Environment.Variables, resolved with the
chosen parameters, plus what only differs locally: no X-Ray daemon (Tracer off) and the registry
file of the run. What the function prints (Powertools' structured logs and EMF metrics) goes to a
log file, as Lambda sends it to CloudWatch Logs.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import threading
from pathlib import Path
from typing import Any

from comparison.local.template import Template

_PRINT_LOCK = threading.Lock()


class LocalLambda:
    """A callable handler(event, context) with the function's template environment."""

    def __init__(
        self,
        template: Template,
        function: str = "FirehoseTransformFunction",
        log_path: Path | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        properties = template.resource(function, "AWS::Serverless::Function")
        globals_ = template.resolve(template.body.get("Globals", {}).get("Function", {}))
        variables = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **properties.get("Environment", {}).get("Variables", {}),
            "POWERTOOLS_TRACE_DISABLED": "true",
            **(environment or {}),
        }
        self.environment = {key: str(value) for key, value in variables.items()}
        os.environ.update(self.environment)
        module_name, _, handler_name = properties["Handler"].rpartition(".")
        name = f"{Path(properties['CodeUri']).name}.{module_name}"
        # Powertools reads its configuration from the environment when the module runs: a module this
        # process imported earlier runs again, in the environment just set, as a new Lambda container would.
        loaded = sys.modules.get(name)
        self.module = importlib.reload(loaded) if loaded is not None else importlib.import_module(name)
        self.handler = getattr(self.module, handler_name)
        self.log_path = log_path
        self._log = open(log_path, "a") if log_path else None  # noqa: SIM115 - closed by close()
        if self._log is not None and hasattr(self.module, "logger"):
            self.module.logger.registered_handler.setStream(self._log)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        sink = self._log if self._log is not None else io.StringIO()
        with _PRINT_LOCK, contextlib.redirect_stdout(sink):
            return self.handler(event, context)

    def close(self) -> None:
        """Close the log file, first pointing the function's logger away from it: the logger outlives this
        runtime (a module reloaded later keeps the logging handler), and a handler left on a closed file fails the
        next function set up in this process."""
        if self._log is not None:
            if hasattr(self.module, "logger"):
                self.module.logger.registered_handler.setStream(sys.stderr)
            self._log.close()
            self._log = None
