"""The local runtime: stand-ins for AWS services on 127.0.0.1, never deployed.

- `servers`: moto server (S3, and a second Kinesis for tests) and kinesalite (the run's Kinesis).
- `firehose`: a delivery stream simulator that calls the real transformation Lambda.
- `kinesis_source`: a PySpark 4 Python Data Source reading Kinesis, for the Glue pipeline.
"""
