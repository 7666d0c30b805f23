"""AWS Glue streaming entry point (the job's ScriptLocation): read Kinesis, run the pipeline per micro-batch.

Everything that needs Glue lives here and nothing else does: the pipeline (`glue_streaming.pipeline`)
and the sinks (`glue_streaming.storage`) are plain Spark and run on the local runner too. This file
cannot run without Glue's JVM libraries; the README says what that leaves untested.

Job arguments (the template's DefaultArguments): stream_arn, output_root, checkpoint_location,
window_size ("100 seconds"), starting_position (TRIM_HORIZON or LATEST), registry_uri ("" for none),
aggregate_window, watermark_delay, join_bound. `--extra-py-files` ships `shared` and `glue_streaming`.
"""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from glue_streaming import pipeline, storage
from shared.spark_columns import SESSION_SETTINGS

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
]

args = getResolvedOptions(sys.argv, ARGUMENTS)
glue_context = GlueContext(SparkContext.getOrCreate())
spark = glue_context.spark_session
for key, value in SESSION_SETTINGS.items():
    spark.conf.set(key, value)
job = Job(glue_context)
job.init(args["JOB_NAME"], args)

source = glue_context.create_data_frame.from_options(
    connection_type="kinesis",
    connection_options={
        "typeOfData": "kinesis",
        "streamARN": args["stream_arn"],
        "startingPosition": args["starting_position"],
        "inferSchema": "false",
        "addRecordTimestamp": "true",
        "emitConsumerLagMetrics": "true",
    },
    transformation_ctx="kinesis_source",
)
settings = pipeline.PipelineSettings(args["aggregate_window"], args["watermark_delay"], args["join_bound"])
registry = pipeline.registry_frame(spark, storage.load_registry(spark, args["registry_uri"]))
frame = pipeline.assemble(pipeline.from_glue_kinesis(source), registry, settings)
writer = storage.BatchWriter(args["output_root"], args["checkpoint_location"])

glue_context.forEachBatch(
    frame=frame,
    batch_function=writer,
    options={"windowSize": args["window_size"], "checkpointLocation": args["checkpoint_location"]},
)
job.commit()
