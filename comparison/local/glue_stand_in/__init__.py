"""A stand-in for the part of AWS Glue's `awsglue` library that `glue_streaming/glue_job.py` uses.

The local runtime runs the Glue entry itself, unchanged: `install()` puts this folder's `awsglue`
package on `sys.path` (it is never deployed; on Glue the real library is there), and the local
runner then executes the script. What the stand-in does, and what it is based on:

- `awsglue.utils.getResolvedOptions`: as the public library (awslabs/aws-glue-libs, `awsglue/utils.py`):
  `--NAME value` pairs, every requested name required, unknown arguments ignored, a missing one refused
  with `GlueArgumentError`.
- `GlueContext.create_data_frame.from_options` / `.from_catalog` with `connection_type="kinesis"`:
  the documented connection options (AWS Glue developer guide, "Kinesis connection option reference"),
  checked as `kinesis.check_options` says, read through the project's Python Data Source
  (`comparison.local.kinesis_source`) from the endpoint in `AWS_ENDPOINT_URL_KINESIS`, and returned in
  the shape Glue gives (see `kinesis.glue_frame`).
- `GlueContext.forEachBatch`: as the public library's: `windowSize` and `checkpointLocation` required,
  the batch persisted and counted, empty batches skipped, the query restarted up to `batchMaxRetries`.
- `awsglue.job.Job`: `init` and `commit`.

`runtime.RUNTIME` is how the local runner reaches a running job: it learns when the query started, and
asks it to stop.
"""

from __future__ import annotations

import sys
from pathlib import Path

STAND_IN_PATH = Path(__file__).resolve().parent


def install() -> None:
    """Make `import awsglue` find the stand-in (idempotent)."""
    if str(STAND_IN_PATH) not in sys.path:
        sys.path.insert(0, str(STAND_IN_PATH))
