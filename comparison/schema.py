"""The version of report.json's layout: written by `comparison.report`, checked by the readers of reports."""

# 2: run.mode (local or aws), latency_source and service_metrics per path, the knobs named as the cost model names them.
REPORT_SCHEMA_VERSION = 2
