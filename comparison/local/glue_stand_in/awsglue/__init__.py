"""The local stand-in for AWS Glue's `awsglue` package (see `comparison.local.glue_stand_in`)."""
