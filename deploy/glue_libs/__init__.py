"""The Glue job's libraries (`shared`, `glue_streaming`): zipped by `sam build`, published by a custom resource."""
