"""The awsglue stand-in refuses what Glue refuses, and gives the frame shapes Glue gives.

The Glue entry itself runs under it end to end in test_glue_runner.py.
"""

from __future__ import annotations

import pytest

from comparison.local.glue_runner import LocalGlueJob, catalog_tables, stream_arn
from comparison.local.glue_stand_in import install, kinesis
from comparison.local.glue_stand_in.runtime import RUNTIME
from comparison.local.template import Template

install()
from awsglue.context import GlueContext  # noqa: E402 - the stand-in is on sys.path only after install()
from awsglue.job import Job  # noqa: E402
from awsglue.utils import GlueArgumentError, getResolvedOptions  # noqa: E402

ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/telemetry"
GOOD = {"streamARN": ARN, "classification": "json", "inferSchema": "true", "startingPosition": "trim_horizon"}


@pytest.fixture(autouse=True)
def local_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:1")


def test_resolved_options_take_what_is_asked_and_ignore_the_rest():
    argv = ["script.py", "--JOB_NAME", "job", "--window_size", "10 seconds", "--enable-metrics", "true"]
    args = getResolvedOptions(argv, ["JOB_NAME", "window_size"])
    assert (args["JOB_NAME"], args["window_size"]) == ("job", "10 seconds")
    with pytest.raises(GlueArgumentError, match="stream_arn"):
        getResolvedOptions(argv, ["JOB_NAME", "stream_arn"])
    with pytest.raises(RuntimeError, match="reserved"):
        getResolvedOptions(argv, ["job-bookmark-option"])


def test_the_documented_options_are_read_as_documented():
    read = kinesis.check_options({**GOOD, "maxFetchRecordsPerShard": "500", "addRecordTimestamp": "TRUE"})
    assert (read.stream, read.region, read.endpoint_url) == ("telemetry", "eu-west-1", "http://127.0.0.1:1")
    assert (read.starting_position, read.max_records_per_shard, read.add_record_timestamp) == (
        "TRIM_HORIZON",
        500,
        True,
    )
    assert kinesis.check_options({**GOOD, "startingPosition": "LATEST"}).starting_position == "LATEST"
    assert kinesis.check_options({**GOOD, "startingPosition": "earliest"}).starting_position == "TRIM_HORIZON"
    at = kinesis.check_options({**GOOD, "startingPosition": "2023-04-04T08:00:00-04:00"})
    assert (at.starting_position, at.starting_timestamp_ms) == ("AT_TIMESTAMP", 1680609600000)
    assert kinesis.check_options({k: v for k, v in GOOD.items() if k != "startingPosition"}).starting_position == (
        "LATEST"
    ), "latest is the documented default"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"classification": None}, "classification is required"),
        ({"inferSchema": None}, "schema is required when inferSchema"),
        ({"inferSchema": "false"}, "schema is required when inferSchema"),
        ({"inferSchema": "yes"}, 'inferSchema=.yes.: expected "true" or "false"'),
        ({"classification": "csv"}, "JSON records only"),
        ({"streamArn ": "x"}, "unknown Kinesis connection option 'streamArn '"),
        ({"typeOfData": "kinesis"}, "unknown Kinesis connection option 'typeOfData'"),
        ({"partitionKey": "p"}, "for writing to a stream"),
        ({"startingPosition": "now"}, "startingPosition='now'"),
        ({"startingPosition": "2023-04-04 08:00:00"}, "expected latest, trim_horizon, earliest or a timestamp"),
        ({"streamARN": "arn:aws:s3:::bucket"}, "is not a stream ARN"),
        ({"streamARN": None}, "streamARN .* is required"),
        ({"maxRecordPerRead": "20000"}, "maxRecordPerRead must be 1 to 10,000"),
        ({"maxFetchRecordsPerShard": "0"}, "maxFetchRecordsPerShard must be at least 1"),
        ({"maxFetchTimeInMs": "-1"}, "maxFetchTimeInMs='-1': expected a whole number"),
        ({"describeShardInterval": "soon"}, "describeShardInterval"),
        ({"fanoutConsumerARN": "arn:aws:kinesis:x"}, "enhanced fan-out is not emulated"),
    ],
)
def test_refuses_what_glue_refuses(change, message):
    options = {**GOOD, **change}
    options = {k: v for k, v in options.items() if v is not None}
    with pytest.raises(kinesis.GlueOptionError, match=message):
        kinesis.check_options(options)


def test_never_reads_aws_without_a_local_endpoint(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_KINESIS")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(kinesis.GlueOptionError, match="AWS_ENDPOINT_URL_KINESIS"):
        kinesis.check_options(GOOD)


@pytest.mark.spark
def test_the_frame_has_glues_shape(spark):
    glue = GlueContext(spark.sparkContext)
    text = glue.create_data_frame.from_options("kinesis", {**GOOD, "addRecordTimestamp": "true"})
    assert text.isStreaming
    assert text.dtypes == [(kinesis.INFERRED_COLUMN, "string"), (kinesis.TIMESTAMP_COLUMN, "timestamp")]
    parsed = glue.create_data_frame.from_options(
        "kinesis", {**GOOD, "inferSchema": "false", "schema": "`event_id` STRING, `temperature` DOUBLE"}
    )
    assert parsed.dtypes == [("event_id", "string"), ("temperature", "double")]
    with pytest.raises(kinesis.GlueOptionError, match="kinesis only"):
        glue.create_data_frame.from_options("kafka", GOOD)


@pytest.mark.spark
def test_from_catalog_reads_the_templates_source_table(spark):
    RUNTIME.reset()
    RUNTIME.catalog = catalog_tables(Template(), "telemetry")
    glue = GlueContext(spark.sparkContext)
    (database, table) = next(iter(RUNTIME.catalog))
    parsed = glue.create_data_frame.from_catalog(database=database, table_name=table)
    assert ("event_id", "string") in parsed.dtypes and ("sent_at_ms", "bigint") in parsed.dtypes
    text = glue.create_data_frame.from_catalog(
        database=database, table_name=table, additional_options={"inferSchema": "true"}
    )
    assert text.columns == [kinesis.INFERRED_COLUMN]
    with pytest.raises(kinesis.GlueOptionError, match="no Data Catalog table"):
        glue.create_data_frame.from_catalog(database=database, table_name="missing")
    RUNTIME.reset()


@pytest.mark.spark
@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"checkpointLocation": "/tmp/x"}, Exception, "Missing windowSize argument"),
        ({"windowSize": "10 seconds"}, Exception, "Missing checkpointLocation argument"),
        ({"windowSize": "ten seconds", "checkpointLocation": "/tmp/x"}, ValueError, "windowSize 'ten seconds'"),
        ({"windowSize": "1 second", "checkpointLocation": "/tmp/x", "batchMaxRetries": "101"}, ValueError, "0 and 100"),
    ],
)
def test_for_each_batch_refuses_bad_options_before_starting(spark, options, error, message):
    frame = spark.readStream.format("rate").load()
    with pytest.raises(error, match=message):
        GlueContext(spark.sparkContext).forEachBatch(frame, lambda batch, batch_id: None, options)
    assert not spark.streams.active


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("unpack", [True, False])
def test_kpl_aggregates_reach_the_job_unpacked_or_whole_as_the_runtime_says(
    spark, kinesalite, unique_name, monkeypatch, unpack
):
    from comparison import kpl
    from comparison.local.servers import client, create_stream

    kinesis_client = client("kinesis", kinesalite.endpoint)
    create_stream(kinesis_client, unique_name, shards=1)
    aggregate = next(kpl.pack([("k", b'{"n":1}'), ("k", b'{"n":2}')])).data
    kinesis_client.put_record(StreamName=unique_name, Data=aggregate, PartitionKey="k")
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS", kinesalite.endpoint)
    RUNTIME.reset()
    RUNTIME.kpl_deaggregation = unpack
    arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/{unique_name}"
    from glue_streaming.pipeline import curate, from_glue_kinesis

    options = {**GOOD, "streamARN": arn, "addRecordTimestamp": "true"}
    frame = GlueContext(spark.sparkContext).create_data_frame.from_options("kinesis", options)
    judged = curate(from_glue_kinesis(frame)).select("data", "status", "reason")
    query = judged.writeStream.format("memory").queryName(f"kpl_{int(unpack)}").start()
    try:
        query.processAllAvailable()
    finally:
        query.stop()
        RUNTIME.reset()
    rows = [tuple(row) for row in spark.sql(f"SELECT data, status, reason FROM kpl_{int(unpack)}").collect()]
    if unpack:
        assert [(bytes(data), status) for data, status, _ in rows] == [(b'{"n":1}', "failed"), (b'{"n":2}', "failed")]
        assert {reason for _, _, reason in rows} == {"missing_field"}
    else:
        # The whole aggregate, its exact bytes, refused by the contract with its own reason.
        assert [(bytes(data), status, reason) for data, status, reason in rows] == [
            (aggregate, "failed", "kpl_aggregate")
        ]


def test_job_commit_needs_init():
    job = Job(None)
    with pytest.raises(RuntimeError, match=r"before Job\.init"):
        job.commit()
    job.init("job", {})
    job.commit()


def test_the_runner_passes_the_templates_arguments_with_the_local_places():
    job = LocalGlueJob("s", "http://127.0.0.1:1", "/out", "/checkpoint")
    argv = job.argv()
    pairs = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert argv[0].endswith("glue_streaming/glue_job.py")
    assert pairs["--stream_arn"] == stream_arn("s") and pairs["--output_root"] == "/out"
    assert pairs["--JOB_NAME"] == "local-telemetry-streaming" and pairs["--registry_uri"] == ""
    assert pairs["--enable-metrics"] == "true", "the template's other DefaultArguments are passed too, as Glue does"
