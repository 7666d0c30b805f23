"""The local runtime: stand-ins for AWS services on 127.0.0.1, never deployed.

- `servers`: moto server (S3, and a second Kinesis for tests) and kinesalite (the run's Kinesis).
- `firehose`: a delivery stream simulator that calls the real transformation Lambda; its configuration and S3
  naming are `firehose_settings`, its source and checkpoint `firehose_source`, the event and context it hands
  the Lambda `firehose_events` (shared with the tests and benchmarks), its checks of the answer
  `firehose_invocation`.
- `kinesis_source`: a PySpark 4 Python Data Source reading Kinesis, for the Glue pipeline; `kinesis_spill` the
  copies of a batch's records it keeps besides Kinesis (the driver's read-ahead files, the executors' cache).
- `glue_runner` (the job's entry on local Spark), `glue_process` (it as a child process), `cluster` (a Spark
  standalone cluster for it).
- `environment`, `firehose_backend`, `glue_backend`: the local target of a run and each path's local backend.
- `cloud` and `glue_service`: a local cloud playing a deployed stack, for `--mode aws` without an account.
"""
