"""The deployable artifact: `sam build` output, imported as Lambda would import it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# Run with -I -S: no site-packages, no PYTHONPATH, no current directory. Only the standard library
# and the two build folders Lambda would put on sys.path (the function's and /opt/python of the layer).
PROBE = """
import json, os, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
os.environ.update(POWERTOOLS_SERVICE_NAME="firehose-transform", POWERTOOLS_METRICS_NAMESPACE="EtlShowdown",
                  POWERTOOLS_TRACE_DISABLED="true", DEVICE_REGISTRY=sys.argv[4])
import app
class Context:
    function_name = "FirehoseTransformFunction"; memory_limit_in_mb = 512; aws_request_id = "probe"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:FirehoseTransformFunction"
    def get_remaining_time_in_millis(self): return 60000
event = json.load(open(sys.argv[3]))
response = app.lambda_handler(event, Context())
print("RESULT " + json.dumps({"results": [r["result"] for r in response["records"]],
      "shared_from": sys.modules["shared"].__file__}))
"""


def test_built_function_runs_with_only_its_build_folders(sam_build):
    function = sam_build / "FirehoseTransformFunction"
    layer = sam_build / "SharedLayer" / "python"
    assert not (function / "shared").exists(), "the contract must come from the layer, not a copy"
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            PROBE,
            str(function),
            str(layer),
            str(ROOT / "events" / "malformed_batch.json"),
            str(ROOT / "events" / "devices.jsonl"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    report = json.loads(line[len("RESULT ") :])
    assert report["results"][:2] == ["Ok", "Ok"] and set(report["results"][2:]) == {"ProcessingFailed"}
    assert report["shared_from"].startswith(str(layer))
