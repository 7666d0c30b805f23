"""The delivery stream's configuration from template.yaml, the settings Firehose refuses, and S3 naming."""

from __future__ import annotations

import re

import pytest

from comparison.local.firehose_settings import (
    FirehoseConfigError,
    FirehoseSettings,
    object_key,
    render_error_prefix,
    render_prefix,
)
from comparison.local.template import Template, TemplateError

LAMBDA_ARN = "arn:aws:lambda:us-east-1:000000000000:function:FirehoseTransformFunction"


def test_settings_come_from_the_template():
    settings = FirehoseSettings.from_template(Template())
    assert (settings.processor_buffer_mb, settings.processor_interval_s, settings.retries) == (1.0, 60.0, 3)
    assert (settings.delivery_buffer_mb, settings.delivery_interval_s, settings.compression) == (
        5.0,
        300.0,
        "UNCOMPRESSED",
    )
    assert settings.prefix == "firehose/curated/" and "!{firehose:error-output-type}" in settings.error_prefix
    assert (settings.lambda_memory_mb, settings.timeout_s) == (512, 120.0)
    tuned = FirehoseSettings.from_template(
        Template(overrides={"ProcessorBufferIntervalSeconds": 0, "DeliveryBufferIntervalSeconds": 0})
    )
    assert (tuned.processor_interval_s, tuned.delivery_interval_s) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ProcessorBufferSizeMB": 5}, r"ProcessorBufferSizeMB=5 is outside its allowed range 0\.2\.\.3"),
        ({"DeliveryBufferIntervalSeconds": 901}, r"DeliveryBufferIntervalSeconds=901 is outside"),
        ({"DeliveryCompression": "ZIP"}, r"DeliveryCompression='ZIP' is not one of"),
        ({"NoSuchParameter": 1}, r"unknown template parameter"),
    ],
)
def test_a_value_the_template_refuses_is_a_clear_error(overrides, message):
    with pytest.raises(TemplateError, match=message):
        Template(overrides=overrides)


def test_dynamic_partitioning_needs_the_buffers_cloudformation_requires():
    with pytest.raises(FirehoseConfigError, match="SizeInMBs must be at least 64"):
        FirehoseSettings.from_template(Template(overrides={"DynamicPartitioning": "true"}))
    settings = FirehoseSettings.from_template(
        Template(
            overrides={"DynamicPartitioning": "true", "DeliveryBufferSizeMB": 64, "DeliveryBufferIntervalSeconds": 60}
        )
    )
    assert settings.dynamic_partitioning and "!{partitionKeyFromLambda:event_date}" in settings.prefix


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"processor_buffer_mb": 0.1}, "0.2..3"),
        ({"delivery_buffer_mb": 200}, "1..128"),
        ({"prefix": "a/!{timestamp:yyyy}/"}, "ErrorOutputPrefix can't be null"),
        ({"prefix": "a/", "error_prefix": "e/!{timestamp:yyyy}/"}, "must include !{firehose:error-output-type}"),
        ({"prefix": "a/!{firehose:error-output-type}/", "error_prefix": "e/"}, "Prefix can't contain"),
    ],
)
def test_settings_firehose_would_refuse(values, message):
    with pytest.raises(FirehoseConfigError, match=re.escape(message)):
        FirehoseSettings(name="s", lambda_arn=LAMBDA_ARN, **values)


def test_prefix_expressions():
    when = 1_764_347_746_000  # 2025-11-28T16:35:46Z
    assert render_prefix("data/", when) == "data/2025/11/28/16/"
    assert render_prefix("data/!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH}/", when) == "data/2025-11-28/h=16/"
    error = render_prefix("errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/", when, "processing-failed")
    assert error == "errors/processing-failed/2025/11/28/16/"
    keys = {"event_date": "2025-11-28", "event_hour": "16"}
    rendered = render_prefix(
        "d/event_date=!{partitionKeyFromLambda:event_date}/h=!{partitionKeyFromLambda:event_hour}/", when, keys=keys
    )
    assert rendered.startswith("d/event_date=2025-11-28/h=16/")


def test_error_objects_and_object_keys_are_named_as_firehose_names_them():
    when = 1_764_347_746_000  # 2025-11-28T16:35:46Z
    # Without expressions, the error output type and the time are appended.
    assert render_error_prefix("errors/", when) == "errors/processing-failed/2025/11/28/16/"
    key = object_key("out/2025/11/28/16/", "etl", when, ".gz")
    assert re.fullmatch(r"out/2025/11/28/16/etl-1-2025-11-28-16-35-46-[0-9a-f-]{36}\.gz", key)
    with pytest.raises(FirehoseConfigError, match="over 512 characters"):
        object_key("p" * 513, "etl", when)
