"""Load generation with locust: the generated workload, produced to Kinesis by locust users."""
