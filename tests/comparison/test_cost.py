"""The cost model: hand-computed bills, the billing rules that matter (5 KB rounding, tiers, shards),
and the worked figures of the AWS facts."""

from __future__ import annotations

import pytest

from comparison.cost import PATHS, estimate, glue_workers_for
from comparison.cost_lines import PathCost
from comparison.cost_workload import Workload

GB = 2**30
MB = 2**20
MONTH_S = 730 * 3600  # 2,628,000 s


def workload(**overrides) -> Workload:
    settings = {"events_per_s": 1000.0, "record_size_bytes": 200, "lambda_ms_per_record": 0.01}
    return Workload(**{**settings, **overrides})


def usd(path: PathCost, service: str) -> float:
    return path.line(service).usd_per_month


def test_firehose_ingestion_line_bills_the_rounded_size():
    # 10 events/s for 730 h = 26,280,000 records; 5,121 B is billed as 10,240 B.
    line = estimate(workload(events_per_s=10, record_size_bytes=5121)).firehose_lambda.line("firehose_ingestion")
    billed_gb = 26_280_000 * 10_240 / GB  # 250.6256 GB
    assert line.inputs["billed_record_bytes"] == 10_240
    assert line.usd_per_month == pytest.approx(billed_gb * 0.029)  # $7.27


def test_smallest_glue_job_costs_about_161_a_month_before_any_data():
    # The AWS facts' worked figure: 2 x G.025X = 0.5 DPU x $0.44 x 730 h = $160.60.
    glue = estimate(workload(events_per_s=1)).kinesis_glue
    assert glue.line("glue_dpu").inputs["workers"] == 2
    assert usd(glue, "glue_dpu") == pytest.approx(0.5 * 0.44 * 730)
    assert round(usd(glue, "glue_dpu")) == 161


def test_hand_computed_bill_at_1000_events_of_200_bytes_on_demand():
    e = estimate(workload())
    records = 1000 * MONTH_S  # 2,628,000,000 a month
    # Kinesis on demand: 730 stream-hours; each record written is billed as 1 KB; one consumer reads the bytes.
    kinesis = 730 * 0.04 + records * 1024 / GB * 0.08 + records * 200 / GB * 0.04  # 29.20 + 200.50 + 19.58
    assert kinesis == pytest.approx(249.2806, abs=1e-4)
    # Firehose: 200 B is billed as 5,120 B: 12,531.28 GB, all in the first tier.
    firehose = records * 5120 / GB * 0.029  # $363.41
    # Lambda: the 1 MB processor buffer fills every 1,048,576 / 200,000 B/s = 5.24 s, sooner than its 60 s interval:
    # 5.256e11 B / 1 MiB = 501,251.2 invocations of 5,242.88 records, each 52.43 ms billed as 53 ms at 0.5 GB.
    invocations = records * 200 / MB
    assert invocations == pytest.approx(501_251.2)
    duration = invocations * 0.053 * 0.5 * 0.0000166667  # 13,283.2 GB-s: $0.22
    requests = invocations / 1e6 * 0.20  # $0.10
    # Firehose S3 objects: the 5 MB buffer fills every 26.2 s, sooner than 300 s: 5.256e11 B / 5 MiB = 100,250.2.
    firehose_objects = records * 200 / (5 * MB)
    # Glue: one window every 100 s, 4 objects each: 26,280 windows x 4 = 105,120 objects.
    glue_objects = MONTH_S / 100 * 4
    storage = records * 200 / GB * 0.023  # 489.50 GB: $11.26

    fl, gl = e.firehose_lambda, e.kinesis_glue
    assert [line.service for line in fl.lines] == [
        "kinesis",
        "firehose_ingestion",
        "lambda_duration",
        "lambda_requests",
        "s3_put",
        "s3_get",
        "s3_storage",
    ]
    assert [line.service for line in gl.lines] == ["kinesis", "glue_dpu", "s3_put", "s3_get", "s3_storage"]
    assert usd(fl, "kinesis") == usd(gl, "kinesis") == pytest.approx(kinesis)
    assert usd(fl, "firehose_ingestion") == pytest.approx(firehose)
    assert fl.line("lambda_duration").inputs["billed_ms_per_invocation"] == 53
    assert usd(fl, "lambda_duration") == pytest.approx(duration)
    assert usd(fl, "lambda_requests") == pytest.approx(requests)
    assert usd(fl, "s3_put") == pytest.approx(firehose_objects / 1000 * 0.005)
    assert usd(fl, "s3_get") == pytest.approx(firehose_objects / 1000 * 0.0004)
    assert usd(fl, "s3_storage") == usd(gl, "s3_storage") == pytest.approx(storage)
    assert usd(gl, "glue_dpu") == pytest.approx(160.6)
    assert usd(gl, "s3_put") == pytest.approx(glue_objects / 1000 * 0.005)
    assert fl.usd_per_month == pytest.approx(
        kinesis + firehose + duration + requests + firehose_objects * 5.4e-6 + storage
    )
    assert gl.usd_per_month == pytest.approx(kinesis + 160.6 + glue_objects * 5.4e-6 + storage)
    assert fl.usd_per_month == pytest.approx(624.81, abs=0.01)
    assert gl.usd_per_month == pytest.approx(421.71, abs=0.01)
    assert e.cheaper == "kinesis_glue"


def test_at_low_throughput_the_buffer_intervals_set_the_invocations_and_objects():
    # 10 events/s of 200 B = 2,000 B/s: the 1 MB processor buffer would take 524 s, so the 60 s interval
    # flushes first (43,800 invocations of 600 records); the 300 s delivery interval writes 8,760 objects.
    fl = estimate(workload(events_per_s=10, lambda_ms_per_record=0.1)).firehose_lambda
    assert fl.line("lambda_requests").inputs["invocations"] == pytest.approx(MONTH_S / 60)
    assert fl.line("lambda_duration").inputs["records_per_invocation"] == pytest.approx(600)
    # 600 x 0.1 ms = 60 ms, at 0.5 GB.
    assert usd(fl, "lambda_duration") == pytest.approx(43_800 * 0.060 * 0.5 * 0.0000166667)
    assert fl.line("s3_put").inputs["objects"] == pytest.approx(MONTH_S / 300)


def test_zero_buffering_writes_an_object_per_invocation():
    # Zero buffering delivers each processor batch as it comes; a zero processor interval batches one poll (1 s).
    fl = estimate(workload(events_per_s=10, processor_interval_s=0, delivery_interval_s=0)).firehose_lambda
    assert fl.line("lambda_requests").inputs["invocations"] == pytest.approx(MONTH_S)
    assert fl.line("s3_put").inputs["objects"] == pytest.approx(MONTH_S)


def test_arm64_duration_is_billed_at_its_own_rate():
    x86 = estimate(workload()).firehose_lambda.line("lambda_duration")
    arm = estimate(workload(lambda_architecture="arm64")).firehose_lambda.line("lambda_duration")
    assert arm.inputs["gb_seconds"] == x86.inputs["gb_seconds"]
    assert arm.usd_per_month == pytest.approx(x86.inputs["gb_seconds"] * 0.0000133334)


@pytest.mark.parametrize(
    ("events_per_s", "record_size_bytes", "shards"),
    [
        (1000, 200, 1),  # records: 1.0 shard; bytes: 200,000 / 1,048,576 = 0.19
        (1001, 200, 2),  # records: 1.001 -> 2
        (500, 5120, 3),  # bytes: 2,560,000 / 1,048,576 = 2.44 -> 3; records: 0.5
        (4000, 1024, 4),  # records 4.0 and bytes 3.91: the larger, 4
        (0.5, 200, 1),  # never fewer than one shard
    ],
)
def test_provisioned_shards_are_the_larger_of_the_bytes_and_records_limits_rounded_up(
    events_per_s, record_size_bytes, shards
):
    line = estimate(
        workload(events_per_s=events_per_s, record_size_bytes=record_size_bytes, kinesis_mode="provisioned")
    ).kinesis_glue.line("kinesis")
    assert line.inputs["shards"] == shards


def test_provisioned_bill_counts_shard_hours_and_25_kb_put_payload_units():
    # 500 events/s of 5 KB: 3 shards x 730 h x $0.015 = $32.85; 1,314,000,000 records of one 25 KB unit each:
    # 1,314 million units x $0.014 = $18.396.
    line = estimate(workload(events_per_s=500, record_size_bytes=5120, kinesis_mode="provisioned")).kinesis_glue
    assert usd(line, "kinesis") == pytest.approx(3 * 730 * 0.015 + 1314 * 0.014)
    # A 30 KB record is two PUT payload units.
    big = estimate(workload(events_per_s=1, record_size_bytes=30 * 1024, kinesis_mode="provisioned")).kinesis_glue
    assert big.line("kinesis").inputs["units_per_record"] == 2
    assert usd(big, "kinesis") == pytest.approx(1 * 730 * 0.015 + MONTH_S * 2 / 1e6 * 0.014)


def test_on_demand_rounds_each_record_written_up_to_1_kb():
    # 1,025 B is billed as 2,048 B in; out is the bytes read.
    line = estimate(workload(events_per_s=1, record_size_bytes=1025)).kinesis_glue.line("kinesis")
    assert line.inputs["billed_record_bytes"] == 2048
    expected = 730 * 0.04 + MONTH_S * 2048 / GB * 0.08 + MONTH_S * 1025 / GB * 0.04
    assert line.usd_per_month == pytest.approx(expected)


def test_on_demand_and_provisioned_differ_only_in_the_kinesis_line():
    on_demand, provisioned = estimate(workload()), estimate(workload(kinesis_mode="provisioned"))
    for path in PATHS:
        a, b = getattr(on_demand, path), getattr(provisioned, path)
        assert a.usd_per_month - usd(a, "kinesis") == pytest.approx(b.usd_per_month - usd(b, "kinesis"))
    # 1 shard: $10.95 + 2,628 million units x $0.014 = $36.79 + $10.95, against $249.28 on demand.
    assert usd(provisioned.kinesis_glue, "kinesis") == pytest.approx(730 * 0.015 + 2628 * 0.014)


def test_a_large_stream_pays_the_second_firehose_tier():
    # 100,000 events/s of 5 KB: 262,800,000,000 records x 5,120 B = 1,253,128.05 GB; 512,000 GB at $0.029,
    # the other 741,128.05 GB at $0.025.
    line = estimate(workload(events_per_s=100_000, record_size_bytes=5120)).firehose_lambda.line("firehose_ingestion")
    billed_gb = 100_000 * MONTH_S * 5120 / GB
    assert billed_gb == pytest.approx(1_253_128.05, abs=0.01)
    assert line.usd_per_month == pytest.approx(512_000 * 0.029 + (billed_gb - 512_000) * 0.025)
    assert "$0.025" in line.arithmetic


def test_glue_workers_for_the_measured_throughput():
    assert glue_workers_for(10, 5000) == 2  # never below the smallest streaming job
    assert glue_workers_for(10_000, 5000) == 2
    assert glue_workers_for(10_001, 5000) == 3
    assert glue_workers_for(2.1, 0.3) == 7  # 2.1 / 0.3 is 7.000000000000001 in floats: no eighth worker
    with pytest.raises(ValueError):
        glue_workers_for(100, 0)


def test_glue_dpu_by_worker_type_and_billing_minimum():
    # 3 x G.1X = 3 DPU x 730 h x $0.44 = $963.60.
    assert usd(estimate(workload(glue_worker_type="G.1X", glue_workers=3)).kinesis_glue, "glue_dpu") == pytest.approx(
        963.6
    )
    # A run of 3.6 s is billed the 1-minute minimum; one of 3,600.18 s is billed 3,601 s (per second).
    short = estimate(workload(hours_per_month=0.001)).kinesis_glue.line("glue_dpu")
    assert short.usd_per_month == pytest.approx(0.5 * 60 / 3600 * 0.44)
    hour = estimate(workload(hours_per_month=1.00005)).kinesis_glue.line("glue_dpu")
    assert hour.inputs["billed_hours"] == pytest.approx(3601 / 3600)
    with pytest.raises(ValueError, match="unknown Glue worker type"):
        estimate(workload(glue_worker_type="G.8X"))


def test_dynamic_partitioning_is_an_unconfirmed_line_of_its_own():
    fl = estimate(workload(dynamic_partitioning=True)).firehose_lambda
    line = fl.line("firehose_dynamic_partitioning")
    objects = 1000 * MONTH_S * 200 / (5 * MB)
    assert line.usd_per_month == pytest.approx(1000 * MONTH_S * 200 / GB * 0.020 + objects / 1000 * 0.005)
    assert line.status == "UNCONFIRMED"
    with pytest.raises(ValueError, match="zero buffering"):
        workload(dynamic_partitioning=True, delivery_interval_s=0)


def test_a_record_over_the_firehose_maximum_is_refused():
    with pytest.raises(ValueError, match="1,024,000-byte maximum"):
        estimate(workload(record_size_bytes=1_024_001))


def test_kpl_aggregation_bills_kinesis_and_firehose_per_kinesis_record_and_lambda_per_user_record():
    plain, packed = estimate(workload()), estimate(workload(records_per_kinesis_record=10))
    records = 1000 * MONTH_S
    # 10 records of 200 B in one aggregate of 20 + 10 x (200 + 26) = 2,280 B: 1 KB increments give 3 KB for
    # the aggregate, not 10 x 1 KB.
    assert packed.firehose_lambda.line("kinesis").inputs["gb_in"] == pytest.approx(records / 10 * 3072 / GB)
    assert plain.firehose_lambda.line("kinesis").inputs["gb_in"] == pytest.approx(records * 1024 / GB)
    # Firehose's 5 KB rounding applies to the 2,280-byte aggregate: a tenth of the billed bytes.
    billed = packed.firehose_lambda.line("firehose_ingestion").inputs
    assert (billed["records"], billed["billed_record_bytes"]) == (pytest.approx(records / 10), 5120)
    assert usd(packed.firehose_lambda, "firehose_ingestion") == pytest.approx(
        usd(plain.firehose_lambda, "firehose_ingestion") / 10
    )
    # The Lambda sees user records, unpacked: the same bill.
    assert usd(packed.firehose_lambda, "lambda_duration") == usd(plain.firehose_lambda, "lambda_duration")
    provisioned = estimate(workload(records_per_kinesis_record=10, kinesis_mode="provisioned"))
    assert provisioned.kinesis_glue.line("kinesis").inputs["put_payload_units"] == pytest.approx(records / 10)


def test_aggregation_holds_no_more_records_than_fit_in_one_kpl_aggregate():
    # 5,120-byte records: nine fit in the KPL's 51,200-byte aggregate with their framing, whatever the
    # measured count says.
    line = estimate(workload(record_size_bytes=5120, records_per_kinesis_record=30)).firehose_lambda.line("kinesis")
    assert line.inputs["records"] == pytest.approx(1000 * MONTH_S / 9)
    with pytest.raises(ValueError, match="records_per_kinesis_record >= 1"):
        workload(records_per_kinesis_record=0.5)
