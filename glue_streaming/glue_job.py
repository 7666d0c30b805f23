"""AWS Glue streaming entry point (the job's ScriptLocation): read Kinesis, run the pipeline per micro-batch.

Everything that needs Glue lives here and nothing else does: the pipeline (`glue_streaming.pipeline`)
and the sinks (`glue_streaming.storage`) are plain Spark. The local runtime runs this very file under a
stand-in for the `awsglue` library (`comparison/local/glue_stand_in/`), which checks the Kinesis options
below as Glue's documentation states them.

Job arguments (the template's DefaultArguments): stream_arn, output_root, checkpoint_location,
window_size ("100 seconds"), starting_position (TRIM_HORIZON or LATEST), registry_uri ("" for none),
aggregate_window, watermark_delay, join_bound, shuffle_partitions (`pipeline.partition_settings`).
`--extra-py-files` ships `shared` and `glue_streaming`.
Each finished micro-batch logs its manifest as one JSON line on stdout (the job's output log).
"""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.conf import SparkConf
from pyspark.context import SparkContext

from glue_streaming import pipeline, storage

ARGUMENTS = [
    "JOB_NAME",
    "stream_arn",
    "output_root",
    "checkpoint_location",
    "window_size",
    "starting_position",
    "registry_uri",
    "aggregate_window",
    "watermark_delay",
    "join_bound",
    "shuffle_partitions",
]

args = getResolvedOptions(sys.argv, ARGUMENTS)
# The script starts the Spark context on Glue, so the settings read only at start are given to it here (a
# context that already exists, as under the local runtime, keeps its own: that runtime sets them itself).
glue_context = GlueContext(SparkContext.getOrCreate(SparkConf().setAll(list(pipeline.STARTUP_SETTINGS.items()))))
spark = glue_context.spark_session
for key, value in {**pipeline.SPARK_SETTINGS, **pipeline.partition_settings(args["shuffle_partitions"])}.items():
    spark.conf.set(key, value)
job = Job(glue_context)
job.init(args["JOB_NAME"], args)

# classification json with inferSchema "true" hands over each record's bytes as text, unparsed (see
# pipeline.from_glue_kinesis): the shared contract, not Glue's parser, decides what a bad record is.
source = glue_context.create_data_frame.from_options(
    connection_type="kinesis",
    connection_options={
        "streamARN": args["stream_arn"],
        "classification": "json",
        "inferSchema": "true",
        "startingPosition": args["starting_position"].lower(),
        "addRecordTimestamp": "true",
        "emitConsumerLagMetrics": "true",
    },
    transformation_ctx="kinesis_source",
)
settings = pipeline.PipelineSettings(args["aggregate_window"], args["watermark_delay"], args["join_bound"])
registry = storage.load_registry(spark, args["registry_uri"])
frame = pipeline.assemble(pipeline.from_glue_kinesis(source), registry, settings)
writer = storage.BatchWriter(args["output_root"], args["checkpoint_location"], on_batch=storage.log_manifest)

glue_context.forEachBatch(
    frame=frame,
    batch_function=writer,
    options={"windowSize": args["window_size"], "checkpointLocation": args["checkpoint_location"]},
)
job.commit()
