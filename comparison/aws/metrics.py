"""What the services themselves report about a run: CloudWatch metrics over the run's minutes.

Each entry names the metric, the statistic, its value over the run, and that it is reported by the
service (not measured by the harness). A metric without data points (metrics arrive a minute or more
late, some only when enabled) is left out, not shown as zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from comparison.aws.stack import explained
from comparison.paths.base import SERVICE


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric and how to reduce its data points over the run."""

    name: str  # the report's name for it
    title: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str  # Sum, Average or Maximum
    unit: str


def collect(cloudwatch: Any, metrics: list[Metric], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Each metric's value over [start, end] (one-minute periods, reduced by its statistic)."""
    found = []
    begin = start.replace(second=0, microsecond=0)
    finish = end + timedelta(minutes=1)
    for metric in metrics:
        # An average over the run weighs each minute by its data points: Sum over SampleCount, not a mean of means.
        statistics = ["Sum", "SampleCount"] if metric.statistic == "Average" else [metric.statistic]
        with explained("cloudwatch", "GetMetricStatistics", f"{metric.namespace} {metric.metric}"):
            points = cloudwatch.get_metric_statistics(
                Namespace=metric.namespace,
                MetricName=metric.metric,
                Dimensions=[{"Name": k, "Value": v} for k, v in metric.dimensions],
                StartTime=begin,
                EndTime=finish,
                Period=60,
                Statistics=statistics,
            )["Datapoints"]
        if not points:
            continue
        if metric.statistic == "Average":
            value = sum(p["Sum"] for p in points) / max(1.0, sum(p["SampleCount"] for p in points))
        else:
            value = (sum if metric.statistic == "Sum" else max)(p[metric.statistic] for p in points)
        found.append(
            {
                "name": metric.name,
                "title": metric.title,
                "namespace": metric.namespace,
                "metric": metric.metric,
                "statistic": metric.statistic,
                "value": value,
                "unit": metric.unit,
                "source": SERVICE,
            }
        )
    return found


def now() -> datetime:
    """The current time, timezone-aware (what CloudWatch's API takes)."""
    return datetime.now(timezone.utc)


def dimension_sets(cloudwatch: Any, namespace: str, metric: str, required: dict[str, str]) -> list[tuple]:
    """The dimension sets a metric is published with that include `required` (what ListMetrics finds): the
    exact set a statistic query needs, without assuming it."""
    filters = [{"Name": k, "Value": v} for k, v in required.items()]
    with explained("cloudwatch", "ListMetrics", f"{namespace} {metric}"):
        pages = cloudwatch.get_paginator("list_metrics").paginate(
            Namespace=namespace, MetricName=metric, Dimensions=filters
        )
        found = [m for page in pages for m in page.get("Metrics", [])]
    return sorted({tuple((d["Name"], d["Value"]) for d in m["Dimensions"]) for m in found})


def settled(read: Callable[[], list[dict[str, Any]]], pause_s: float = 15.0, limit_s: float = 180.0) -> list:
    """Read the metrics until two reads `pause_s` apart agree (CloudWatch receives data points a minute or more
    late), for at most `limit_s`; the last read."""
    deadline = time.monotonic() + limit_s
    last = read()
    while time.monotonic() < deadline:
        time.sleep(pause_s)
        current = read()
        if current == last:
            return current
        last = current
    return last
