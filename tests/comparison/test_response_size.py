"""The largest processor buffer whose full batch keeps the Lambda's response under 6 MB, checked against the
handler itself."""

from __future__ import annotations

import base64
from itertools import islice

from comparison import response_size
from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines
from firehose_transform import app
from shared import contract as c
from shared.enrichment import Registry

CONFIG = WorkloadConfig(seed=5)


def full_batch(megabytes: float) -> dict:
    """As many of the workload's records as fill a processor buffer of `megabytes`, as Firehose sends them."""
    records, size = [], 0
    for event in islice(generate(CONFIG, response_size.START_MS), 100_000):
        payload = event.payload(event.scheduled_ms)
        if size + len(payload) > megabytes * response_size.MB:
            break
        size += len(payload)
        arrival = event.scheduled_ms + 1_000
        data = base64.b64encode(payload).decode()
        records.append({"recordId": f"{len(records):08d}", "approximateArrivalTimestamp": arrival, "data": data})
    return {"records": records}


def too_large(megabytes: float) -> int:
    registry = Registry.from_json_lines(registry_json_lines(build_registry(CONFIG)))
    _, counts, _ = app.transform_event(full_batch(megabytes), registry)
    return counts[f"reason:{c.RESPONSE_TOO_LARGE}"]


def test_the_largest_buffer_is_what_the_handler_can_answer():
    growth = response_size.measure(CONFIG)
    assert 1.5 < growth.ratio < 5, "curated, enriched and base64-encoded records are larger than raw ones"
    largest = growth.largest_buffer_mb
    assert 0.2 <= largest < 3
    assert too_large(largest) == 0
    assert too_large(3) > 0, "the template's largest buffer outgrows the response with this workload"


def test_a_run_is_warned_only_when_its_buffer_outgrows_the_response():
    growth = response_size.ResponseGrowth(raw_bytes=1_000, response_bytes=2_900)
    assert growth.largest_buffer_mb == 2.0
    assert response_size.warning(growth, 1.0) is None and response_size.warning(growth, 2.0) is None
    message = response_size.warning(growth, 3.0)
    assert message is not None
    assert "ProcessorBufferSizeMB=3" in message and "response_too_large" in message and "2 MB" in message


def test_the_templates_parameter_quotes_the_measured_limit():
    from comparison.local.template import Template

    description = Template().body["Parameters"]["ProcessorBufferSizeMB"]["Description"]
    growth = response_size.measure(WorkloadConfig())
    assert f"Above {growth.largest_buffer_mb:g} MB" in description
    assert f"grow {growth.ratio:.2f}x" in description
