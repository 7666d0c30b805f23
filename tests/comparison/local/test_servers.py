"""The local servers stay up for whatever their clients do."""

from __future__ import annotations

import socket
import time

import pytest

from comparison.local.servers import client

pytestmark = pytest.mark.slow


def test_kinesalite_outlives_a_client_that_aborts_a_request(kinesalite):
    # A stopped Spark query's reader can go away in the middle of a request; kinesalite threw that request's
    # error and died with it, and every later query found no Kinesis.
    with socket.create_connection(("127.0.0.1", kinesalite.port)) as connection:
        head = (
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
            "X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 1000\r\n\r\n"
        )
        connection.sendall(head.encode() + b'{"Limit"')
    time.sleep(0.5)
    assert kinesalite.process.poll() is None
    assert "StreamNames" in client("kinesis", kinesalite.endpoint).list_streams()
