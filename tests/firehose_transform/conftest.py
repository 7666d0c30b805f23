"""Lambda's environment, set before the handler module is imported (Powertools reads it then)."""

import os

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "firehose-transform")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EtlShowdown")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
