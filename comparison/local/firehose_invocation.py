"""One call of the transformation function as Firehose makes it, and Firehose's checks of the answer.

A failed invocation (exception, timeout, missing, duplicated or unknown recordId, unknown result, bad base64,
oversized or malformed response) raises `InvocationError` with the code Firehose gives it
(https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from typing import Any

from comparison.local.firehose_events import LambdaContext, SourceRecord

LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
# Firehose's error codes for transformation failures. Documented (monitoring-with-cloudwatch-logs.html):
# JsonProcessingException ("the returned records [do not] follow the status model"), MissingRecordId,
# DuplicatedRecordId. Seen in error objects of real streams, not documented: FunctionError (the
# function returned an error, an oversized response included), FunctionTimedOut, and
# ProcessingFailedStatus for records the function marked ProcessingFailed (attemptsMade 1).
FUNCTION_ERROR = "Lambda.FunctionError"
FUNCTION_TIMEOUT = "Lambda.FunctionTimedOut"
JSON_ERROR = "Lambda.JsonProcessingException"
MISSING_RECORD_ID = "Lambda.MissingRecordId"
DUPLICATED_RECORD_ID = "Lambda.DuplicatedRecordId"
PROCESSING_FAILED = "Lambda.ProcessingFailedStatus"
RESULTS = ("Ok", "Dropped", "ProcessingFailed")

Handler = Callable[[dict, Any], Any]


class InvocationError(Exception):
    """A failed transformation invocation, with Firehose's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def invoke(handler: Handler, event: dict[str, Any], context: LambdaContext, timeout_s: float) -> list[dict[str, Any]]:
    """Call `handler` once with `event`; the response's records once Firehose would accept them, or
    `InvocationError`."""
    started = time.monotonic()
    try:
        response = handler(event, context)
    except Exception as error:  # the function's error, whatever it is, is Firehose's FunctionError
        raise InvocationError(FUNCTION_ERROR, f"{type(error).__name__}: {error}") from None
    if time.monotonic() - started > timeout_s:
        raise InvocationError(FUNCTION_TIMEOUT, f"Task timed out after {timeout_s:.2f} seconds")
    return checked_records(response, [r["recordId"] for r in event["records"]])


def checked_records(response: Any, expected: list[str]) -> list[dict[str, Any]]:
    """The records of `response` if Firehose accepts it as the answer for the `expected` record ids."""
    try:
        encoded = json.dumps(response)
    except (TypeError, ValueError) as error:
        raise InvocationError(JSON_ERROR, f"the response is not JSON: {error}") from None
    if len(encoded.encode()) > LAMBDA_RESPONSE_LIMIT:
        # Lambda itself refuses the response, so Firehose sees a function error.
        raise InvocationError(
            FUNCTION_ERROR,
            f"Response payload size ({len(encoded.encode())} bytes) exceeded maximum allowed payload size "
            f"({LAMBDA_RESPONSE_LIMIT} bytes).",
        )
    records = response.get("records") if isinstance(response, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InvocationError(JSON_ERROR, "the response has no list of records")
    seen = [r.get("recordId") for r in records]
    if len(set(seen)) != len(seen):
        raise InvocationError(
            DUPLICATED_RECORD_ID,
            "Multiple records were returned with the same record Id. Ensure that the Lambda function "
            "returns a unique record Id for each record.",
        )
    if set(expected) != set(seen):
        raise InvocationError(
            MISSING_RECORD_ID,
            "One or more record Ids were not returned. Ensure that the Lambda function returns all "
            "received record Ids.",
        )
    for record in records:
        problem = None
        if record.get("result") not in RESULTS:
            problem = f"result {record.get('result')!r} is not Ok, Dropped or ProcessingFailed"
        else:
            try:
                base64.b64decode(record.get("data", ""), validate=True)
            except (binascii.Error, ValueError, TypeError):
                problem = f"the data of record {record['recordId']} is not base64"
        if problem:
            raise InvocationError(
                JSON_ERROR,
                "There was an error parsing returned records from the Lambda function. Ensure that the "
                f"returned records follow the status model required by Firehose ({problem}).",
            )
    return records


def error_document(
    record: SourceRecord, code: str, message: str, attempts: int, ending_ms: int, lambda_arn: str
) -> str:
    """The JSON line Firehose writes under the error prefix for a record that failed processing."""
    return json.dumps(
        {
            "attemptsMade": attempts,
            "arrivalTimestamp": record.arrival_ms,
            "errorCode": code,
            "errorMessage": message,
            "attemptEndingTimestamp": ending_ms,
            "rawData": base64.b64encode(record.data).decode(),
            "lambdaArn": lambda_arn,
        }
    )
