"""Where the Glue job writes each output under its root, and in which format.

Plain data with no PySpark import, so that readers of the outputs (the comparison harness) share it
with the writer (`glue_streaming.storage`).
"""

OUTPUTS = {
    # name: (path under the root, format)
    "curated": ("curated", "parquet"),
    "late": ("late", "json"),
    "quarantine": ("quarantine", "json"),
    "dropped": ("dropped", "json"),
    "device_windows": ("aggregates/device", "parquet"),
    "site_windows": ("aggregates/site", "parquet"),
    "maintenance_join": ("maintenance_join", "parquet"),
}
# The outputs written as JSON Lines.
JSON_OUTPUTS = tuple(name for name, (_, form) in OUTPUTS.items() if form == "json")
MANIFESTS = "_manifests"
# Empty markers of the batches the job has started (a batch whose marker exists is a replay).
ATTEMPTS = "_attempts"
