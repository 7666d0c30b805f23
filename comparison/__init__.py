"""The comparison harness: one workload through both paths, measured side by side."""
