"""Reading a whole Kinesis stream back, for assertions (the helper lives with the local servers)."""

from comparison.local.servers import read_stream

__all__ = ["read_stream"]
