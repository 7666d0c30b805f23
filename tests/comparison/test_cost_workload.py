"""The cost model's workload: settings the services would refuse are refused."""

from __future__ import annotations

import pytest

from comparison.cost_workload import Workload


def workload(**overrides) -> Workload:
    settings = {"events_per_s": 1000.0, "record_size_bytes": 200, "lambda_ms_per_record": 0.01}
    return Workload(**{**settings, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [
        {"processor_buffer_mb": 0.1},
        {"delivery_buffer_mb": 200},
        {"delivery_interval_s": 901},
        {"kinesis_mode": "serverless"},
        {"events_per_s": 0},
    ],
)
def test_settings_outside_what_the_services_accept_are_refused(overrides):
    with pytest.raises(ValueError, match="invalid workload"):
        workload(**overrides)
