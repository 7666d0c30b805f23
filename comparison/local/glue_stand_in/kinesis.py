"""Glue's Kinesis source, as documented, on the local Kinesis: option checks and the frame Glue returns.

Source of every rule here: AWS Glue developer guide, "Kinesis connection option reference"
(aws-glue-programming-etl-connect-kinesis-home.html), unless a comment says otherwise.

What is documented: the option names, their defaults, that `classification` is required unless a Data
Catalog table supplies it, that `schema` is required when `inferSchema` is false, the `startingPosition`
values, and that `addRecordTimestamp` adds a column `__src_timestamp`.
What is inferred from public code, not documented: with `inferSchema` "true" the streaming frame is one
string column, `$json$data_infer_schema$_temporary$`, the record's bytes cast to a string (public Glue
scripts read that column in their forEachBatch functions; some releases spell it `.temporary$`). The
type of `__src_timestamp` is not documented: the stand-in gives a timestamp.

The stand-in refuses what the documentation says Glue needs, options it does not know (a misspelt
option would otherwise be ignored without a word), and the few documented ones the local runtime
cannot honour (enhanced fan-out, assumed roles, classifications other than JSON).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from glue_streaming.pipeline import GLUE_TEXT_COLUMNS

INFERRED_COLUMN = GLUE_TEXT_COLUMNS[0]
TIMESTAMP_COLUMN = "__src_timestamp"
DOCUMENTED_READ_OPTIONS = (
    "streamARN",
    "classification",
    "streamName",
    "endpointUrl",
    "delimiter",
    "startingPosition",
    "failOnDataLoss",
    "awsSTSRoleARN",
    "awsSTSSessionName",
    "awsSTSEndpoint",
    "maxFetchTimeInMs",
    "maxFetchRecordsPerShard",
    "maxRecordPerRead",
    "addIdleTimeBetweenReads",
    "idleTimeBetweenReadsInMs",
    "describeShardInterval",
    "numRetries",
    "retryIntervalMs",
    "maxRetryIntervalMs",
    "avoidEmptyBatches",
    "schema",
    "inferSchema",
    "avroSchema",
    "addRecordTimestamp",
    "emitConsumerLagMetrics",
    "fanoutConsumerARN",
)
WRITE_OPTIONS = (
    "partitionKey",
    "recordMaxBufferedTime",
    "aggregationEnabled",
    "aggregationMaxSize",
    "aggregationMaxCount",
    "producerRateLimit",
    "collectionMaxCount",
    "collectionMaxSize",
)
# A Data Catalog table of a Kinesis stream carries these parameters (Glue console's table form).
CATALOG_PARAMETERS = ("typeOfData",)
BOOLEAN_OPTIONS = (
    "failOnDataLoss",
    "addIdleTimeBetweenReads",
    "avoidEmptyBatches",
    "inferSchema",
    "addRecordTimestamp",
    "emitConsumerLagMetrics",
)
COUNT_OPTIONS = (
    "maxFetchTimeInMs",
    "maxFetchRecordsPerShard",
    "maxRecordPerRead",
    "idleTimeBetweenReadsInMs",
    "numRetries",
    "retryIntervalMs",
    "maxRetryIntervalMs",
)
NOT_EMULATED = {
    "fanoutConsumerARN": "enhanced fan-out",
    "awsSTSRoleARN": "reading through an assumed role",
    "awsSTSSessionName": "reading through an assumed role",
    "awsSTSEndpoint": "reading through an assumed role",
}
# Kinesis GetRecords returns at most 10,000 records a call (Kinesis Data Streams quotas).
MAX_RECORDS_PER_READ = 10_000
STREAM_ARN = re.compile(
    r"arn:aws[a-z-]*:kinesis:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):stream/(?P<name>[\w.-]{1,128})"
)
STARTING_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
INTERVAL = re.compile(r"\d+(ms|s|m|h)?")


class GlueOptionError(ValueError):
    """Connection options that Glue would refuse (or that the local runtime cannot honour)."""


@dataclass(frozen=True)
class KinesisRead:
    """Checked connection options: what to read, and the frame's shape."""

    stream: str
    region: str
    endpoint_url: str
    starting_position: str
    starting_timestamp_ms: int | None
    max_records_per_shard: int
    infer_schema: bool
    schema: str | None
    add_record_timestamp: bool


def _flag(options: Mapping[str, str], name: str, default: bool) -> bool:
    value = options.get(name)
    if value is None:
        return default
    if str(value).lower() not in ("true", "false"):
        raise GlueOptionError(f'Kinesis option {name}={value!r}: expected "true" or "false"')
    return str(value).lower() == "true"


def _count(options: Mapping[str, str], name: str, default: int) -> int:
    value = options.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"\d+", str(value)):
        raise GlueOptionError(f"Kinesis option {name}={value!r}: expected a whole number of 0 or more")
    return int(value)


def _starting_position(value: str) -> tuple[str, int | None]:
    """(the data source's position, its timestamp in ms): latest, trim_horizon, earliest or a timestamp."""
    from datetime import datetime

    lowered = value.lower()
    if lowered == "latest":
        return "LATEST", None
    if lowered in ("trim_horizon", "earliest"):
        return "TRIM_HORIZON", None
    if STARTING_TIMESTAMP.fullmatch(value):
        return "AT_TIMESTAMP", int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    raise GlueOptionError(
        f"Kinesis option startingPosition={value!r}: expected latest, trim_horizon, earliest or a timestamp "
        "yyyy-mm-ddTHH:MM:SSZ (or with an offset, +HH:MM)"
    )


def check_options(options: Mapping[str, str], from_catalog: bool = False) -> KinesisRead:
    """The connection options of a Kinesis read, checked as Glue documents them; raises GlueOptionError."""
    known = (*DOCUMENTED_READ_OPTIONS, *(CATALOG_PARAMETERS if from_catalog else ()))
    by_lower = {name.lower(): name for name in known}
    given: dict[str, str] = {}
    for key, value in options.items():
        if key.lower() in (w.lower() for w in WRITE_OPTIONS):
            raise GlueOptionError(f"Kinesis option {key} is for writing to a stream, not for reading one")
        if key.lower() not in by_lower:
            raise GlueOptionError(
                f"unknown Kinesis connection option {key!r}; the documented read options are: "
                + ", ".join(DOCUMENTED_READ_OPTIONS)
            )
        given[by_lower[key.lower()]] = str(value)
    for name, what in NOT_EMULATED.items():
        if name in given:
            raise GlueOptionError(f"Kinesis option {name}: {what} is not emulated by the local runtime")
    flags = {name: _flag(given, name, False) for name in BOOLEAN_OPTIONS}
    counts = {name: _count(given, name, 0) for name in COUNT_OPTIONS}
    if "classification" not in given:
        raise GlueOptionError(
            "Kinesis option classification is required unless a Data Catalog table supplies it (e.g. json)"
        )
    if given["classification"].lower() != "json":
        raise GlueOptionError(
            f"Kinesis option classification={given['classification']!r}: the local runtime reads JSON records only"
        )
    infer_schema = flags["inferSchema"]
    if not infer_schema and not given.get("schema"):
        raise GlueOptionError('Kinesis option schema is required when inferSchema is "false" (the default)')
    if "maxRecordPerRead" in given and not 1 <= counts["maxRecordPerRead"] <= MAX_RECORDS_PER_READ:
        raise GlueOptionError(f"Kinesis option maxRecordPerRead must be 1 to {MAX_RECORDS_PER_READ:,}")
    if "maxFetchRecordsPerShard" in given and counts["maxFetchRecordsPerShard"] < 1:
        raise GlueOptionError("Kinesis option maxFetchRecordsPerShard must be at least 1")
    if "describeShardInterval" in given and not INTERVAL.fullmatch(given["describeShardInterval"]):
        raise GlueOptionError(
            f"Kinesis option describeShardInterval={given['describeShardInterval']!r}: expected a duration like 1s"
        )
    if "streamARN" in given:
        match = STREAM_ARN.fullmatch(given["streamARN"])
        if match is None:
            raise GlueOptionError(
                f"Kinesis option streamARN={given['streamARN']!r} is not a stream ARN "
                "(arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)"
            )
        stream, region = match["name"], match["region"]
    elif given.get("streamName"):
        stream, region = given["streamName"], os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    else:
        raise GlueOptionError("Kinesis option streamARN (or streamName with endpointUrl) is required")
    position, timestamp_ms = _starting_position(given.get("startingPosition", "latest"))
    # The local cloud's endpoint replaces any endpointUrl (a catalog table names the real one): the local
    # runtime never reaches AWS.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_KINESIS") or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise GlueOptionError("the local runtime reads the Kinesis endpoint in AWS_ENDPOINT_URL_KINESIS: set it")
    return KinesisRead(
        stream=stream,
        region=region,
        endpoint_url=endpoint,
        starting_position=position,
        starting_timestamp_ms=timestamp_ms,
        max_records_per_shard=counts["maxFetchRecordsPerShard"] if "maxFetchRecordsPerShard" in given else 100_000,
        infer_schema=infer_schema,
        schema=given.get("schema"),
        add_record_timestamp=flags["addRecordTimestamp"],
    )


def glue_frame(spark, read: KinesisRead):
    """The streaming DataFrame Glue gives for `read`, from the local Kinesis through the Python Data Source.

    inferSchema "true": one string column (`INFERRED_COLUMN`), the record's bytes as text; else the
    payload parsed with `schema` (records that do not parse give nulls, as Spark's JSON reader does).
    With addRecordTimestamp, `__src_timestamp` (the record's arrival in the stream) is added.
    """
    from pyspark.sql import functions as F

    from comparison.local.glue_stand_in.runtime import RUNTIME
    from comparison.local.kinesis_source import KinesisDataSource

    spark.dataSource.register(KinesisDataSource)
    reader = (
        spark.readStream.format(KinesisDataSource.name())
        .option("streamName", read.stream)
        .option("region", read.region)
        .option("startingPosition", read.starting_position)
        .option("maxRecordsPerShard", str(read.max_records_per_shard))
        .option("deaggregate", "true" if RUNTIME.kpl_deaggregation else "false")
    )
    if read.starting_timestamp_ms is not None:
        reader = reader.option("startingTimestampMs", str(read.starting_timestamp_ms))
    raw = reader.option("endpointUrl", read.endpoint_url).load()
    text = F.col("data").cast("string")
    parsed = F.from_json(text, read.schema).alias("_payload") if read.schema and not read.infer_schema else None
    columns = [text.alias(INFERRED_COLUMN) if parsed is None else parsed]
    if read.add_record_timestamp:
        columns.append(F.expr("timestamp_millis(arrival_ms)").alias(TIMESTAMP_COLUMN))
    frame = raw.select(*columns)
    if not read.infer_schema:
        frame = frame.select("_payload.*", *([TIMESTAMP_COLUMN] if read.add_record_timestamp else []))
    return frame
