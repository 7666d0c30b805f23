"""template.yaml: linted, expanded with aws-sam-translator and checked resource by resource, offline."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import tomllib

from comparison.aws.stack import REQUIRED_OUTPUTS
from comparison.local.template import Template, TemplateError
from shared import contract
from tests.template.conftest import BIN, ROOT, TEMPLATE, offline_env

# Actions that IAM only accepts on Resource "*" (no resource-level permissions); each needs a reason in the template.
NO_RESOURCE_LEVEL_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}
# ...and those of them that must still be narrowed by a condition.
CONDITION_REQUIRED = {"cloudwatch:PutMetricData"}
PSEUDO_PARAMETERS = {"AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::URLSuffix", "AWS::StackName"}


def get_att(resource: str, attribute: str = "Arn") -> dict:
    return {"Fn::GetAtt": [resource, attribute]}


def ref(name: str) -> dict:
    return {"Ref": name}


# ---- lint -----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cfn_lint_passes():
    result = subprocess.run(
        [str(BIN / "cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, env=offline_env(), timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_sam_validate_lint_passes_without_credentials_or_network():
    result = subprocess.run(
        [str(BIN / "sam"), "validate", "--lint", "--template-file", str(TEMPLATE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=offline_env(),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


# ---- the expanded template ------------------------------------------------------------------------------------


def test_the_delivery_stream_reads_the_stream_and_calls_the_function(expanded):
    resources = expanded["Resources"]
    stream = resources["TelemetryDeliveryStream"]["Properties"]
    assert stream["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert stream["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == get_att("TelemetryStream")
    destination = stream["ExtendedS3DestinationConfiguration"]
    assert destination["BucketARN"] == get_att("DataBucket")
    assert destination["BufferingHints"] == {
        "SizeInMBs": ref("DeliveryBufferSizeMB"),
        "IntervalInSeconds": ref("DeliveryBufferIntervalSeconds"),
    }
    assert destination["ErrorOutputPrefix"].startswith("firehose/errors/!{firehose:error-output-type}/")
    logging = destination["CloudWatchLoggingOptions"]
    assert logging["Enabled"] is True and logging["LogGroupName"] == ref("FirehoseLogGroup")
    (processor,) = destination["ProcessingConfiguration"]["Processors"]
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    assert processor["Type"] == "Lambda"
    assert parameters == {
        "LambdaArn": get_att("FirehoseTransformFunction"),
        "BufferSizeInMBs": ref("ProcessorBufferSizeMB"),
        "BufferIntervalInSeconds": ref("ProcessorBufferIntervalSeconds"),
        "NumberOfRetries": ref("ProcessorRetries"),
    }
    assert resources["FirehoseTransformFunction"]["Type"] == "AWS::Lambda::Function"


def test_the_processor_parameters_keep_the_services_ranges(expanded):
    parameters = expanded["Parameters"]
    assert (parameters["ProcessorBufferSizeMB"]["MinValue"], parameters["ProcessorBufferSizeMB"]["MaxValue"]) == (
        0.2,
        3,
    )
    assert parameters["ProcessorBufferIntervalSeconds"]["MaxValue"] == 900
    assert parameters["DeliveryBufferIntervalSeconds"]["MinValue"] == 0, "zero buffering must stay allowed"
    assert (parameters["DeliveryBufferSizeMB"]["MinValue"], parameters["DeliveryBufferSizeMB"]["MaxValue"]) == (1, 128)


def test_the_transform_function_fits_firehoses_limit_and_is_traced(expanded):
    function = expanded["Resources"]["FirehoseTransformFunction"]["Properties"]
    assert function["Timeout"] <= 300, "Firehose gives a transformation invocation at most 5 minutes"
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["LoggingConfig"]["LogGroup"] == ref("FirehoseTransformLogGroup")
    variables = function["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "firehose-transform"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "EtlShowdown"
    assert function["Role"] == get_att("FirehoseTransformFunctionRole")


def test_the_glue_job_is_gluestreaming_with_the_script_and_the_shared_code(expanded):
    resources = expanded["Resources"]
    job = resources["GlueStreamingJob"]["Properties"]
    assert job["Command"] == {
        "Name": "gluestreaming",
        "PythonVersion": "3",
        "ScriptLocation": "glue_streaming/glue_job.py",
    }
    assert (ROOT / job["Command"]["ScriptLocation"]).is_file()
    assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == (
        ref("GlueVersion"),
        ref("GlueWorkerType"),
        ref("GlueNumberOfWorkers"),
    )
    arguments = job["DefaultArguments"]
    assert arguments["--extra-py-files"] == get_att("GlueLibs", "Uri")
    assert arguments["--stream_arn"] == get_att("TelemetryStream")
    libs = resources["GlueLibs"]
    assert libs["Type"] == "Custom::GlueLibs"
    assert libs["Properties"]["ServiceToken"] == get_att("GlueLibsPublisherFunction")
    # A code change publishes a new version, hence an Update of GlueLibs, hence a new libraries zip.
    version = libs["Properties"]["CodeVersion"]["Ref"]
    assert resources[version]["Type"] == "AWS::Lambda::Version"
    parameters = expanded["Parameters"]
    assert parameters["GlueWorkerType"]["Default"] == "G.025X"
    assert set(parameters["GlueWorkerType"]["AllowedValues"]) == {"G.025X", "G.1X", "G.2X"}


def test_every_offered_glue_version_has_a_compatibility_suite_and_the_default_is_the_newest(expanded):
    # The Makefile's GLUE_VERSIONS, each with its Python and Spark, drive `make test-glue`.
    makefile = (ROOT / "Makefile").read_text()
    suites = next(line for line in makefile.splitlines() if line.startswith("GLUE_VERSIONS :="))
    versions = suites.split(":=", 1)[1].split()
    for version in versions:
        assert f"GLUE_{version}_PYTHON :=" in makefile and f"GLUE_{version}_SPARK :=" in makefile
    offered = expanded["Parameters"]["GlueVersion"]
    assert offered["AllowedValues"] == versions == ["4.0", "5.0", "5.1", "6.0"]
    assert offered["Default"] == max(versions, key=lambda v: tuple(map(int, v.split("."))))


def test_the_glue_jobs_arguments_resolve_as_the_entry_script_and_the_local_runner_read_them():
    arguments = Template().resource("GlueStreamingJob", "AWS::Glue::Job")["DefaultArguments"]
    assert arguments["--window_size"] == "100 seconds"
    assert arguments["--starting_position"] == "TRIM_HORIZON"
    assert arguments["--aggregate_window"] == "1 minute"
    assert arguments["--watermark_delay"] == arguments["--join_bound"] == "10 minutes"
    assert arguments["--registry_uri"] == ""
    assert arguments["--output_root"] == "s3://local-DataBucket/glue/"
    assert arguments["--checkpoint_location"] == "s3://local-DataBucket/checkpoints/glue/"
    assert arguments["--job-language"] == "python"
    assert arguments["--shuffle_partitions"] == "2"
    for bad in ("0", "2.5", "-1", "ten"):
        with pytest.raises(TemplateError, match="GlueShufflePartitions"):
            Template(overrides={"GlueShufflePartitions": bad})
    # The job adds its join bound as a calendar interval of seconds (pipeline.exact_interval), which holds up to
    # 277,777,777 hours: the template takes at most seven digits.
    longest = Template(overrides={"GlueJoinBound": "9999999 hours"}).resource("GlueStreamingJob")
    assert longest["DefaultArguments"]["--join_bound"] == "9999999 hours"
    with pytest.raises(TemplateError, match="GlueJoinBound"):
        Template(overrides={"GlueJoinBound": "300000000 hours"})
    for flag in ("--enable-metrics", "--enable-continuous-cloudwatch-log", "--enable-glue-datacatalog"):
        assert arguments[flag] == "true"
    tuned = Template(overrides={"GlueWindowSizeSeconds": 10, "GlueStartingPosition": "LATEST"})
    tuned_arguments = tuned.resource("GlueStreamingJob")["DefaultArguments"]
    assert (tuned_arguments["--window_size"], tuned_arguments["--starting_position"]) == ("10 seconds", "LATEST")


def test_every_resource_resolves_locally_with_any_stream_mode():
    for overrides in ({}, {"StreamMode": "PROVISIONED", "ShardCount": 4, "CheckpointRetentionDays": 7}):
        template = Template(overrides=overrides)
        for logical_id in template.body["Resources"]:
            template.resource(logical_id)
    stream = Template(overrides={"StreamMode": "PROVISIONED", "ShardCount": 4}).resource("TelemetryStream")
    assert stream["StreamModeDetails"] == {"StreamMode": "PROVISIONED"} and stream["ShardCount"] == 4
    assert "ShardCount" not in Template().resource("TelemetryStream")
    assert Template().resource("TelemetryStream")["StreamEncryption"]["EncryptionType"] == "KMS"


def _columns(table: dict) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in table["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]]


def _raw_column_type(field: contract.Field) -> str:
    return {"number": "double", "integer": "bigint"}.get(field.kind, "string")


def test_the_catalog_tables_follow_the_contract(expanded):
    resources = expanded["Resources"]
    fields = [contract.EVENT_TYPE_FIELD, *contract.COMMON_FIELDS]
    fields += [f for type_fields in contract.TYPE_FIELDS.values() for f in type_fields]
    expected = list(dict.fromkeys((f.name, _raw_column_type(f)) for f in fields))
    assert _columns(resources["GlueSourceTable"]) == expected
    assert [name for name, _ in expected] == list(contract.RAW_FIELD_NAMES)
    source = resources["GlueSourceTable"]["Properties"]["TableInput"]
    assert source["Parameters"]["classification"] == "json"
    assert source["Parameters"]["typeOfData"] == "kinesis"
    assert source["Parameters"]["streamARN"] == get_att("TelemetryStream")
    assert _columns(resources["GlueRegistryTable"]) == list(contract.REGISTRY_FIELDS)
    for table in ("GlueSourceTable", "GlueRegistryTable"):
        assert resources[table]["Properties"]["DatabaseName"] == ref("GlueDatabase")


def test_the_bucket_is_private_tls_only_and_expires_what_is_transient(expanded):
    resources = expanded["Resources"]
    bucket = resources["DataBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (deny,) = resources["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    rules = Template().resource("DataBucket")["LifecycleConfiguration"]["Rules"]
    assert {r.get("Prefix") for r in rules} >= {"firehose/errors/"}
    with_checkpoints = Template(overrides={"CheckpointRetentionDays": 3}).resource("DataBucket")
    expiring = {r.get("Prefix"): r.get("ExpirationInDays") for r in with_checkpoints["LifecycleConfiguration"]["Rules"]}
    assert expiring["checkpoints/"] == 3 and expiring["firehose/errors/"] == 30


def test_every_log_group_has_a_retention(expanded):
    groups = {k: r for k, r in expanded["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert set(groups) >= {"FirehoseTransformLogGroup", "FirehoseLogGroup", "GlueJobLogGroup"}
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == ref("LogRetentionDays")
    arguments = expanded["Resources"]["GlueStreamingJob"]["Properties"]["DefaultArguments"]
    assert arguments["--continuous-log-logGroup"] == ref("GlueJobLogGroup")


def test_alarms_watch_what_a_user_watches(expanded):
    alarms = [r["Properties"] for r in expanded["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    watched = {(a["Namespace"], a["MetricName"]) for a in alarms}
    assert watched >= {
        ("AWS/Firehose", "DeliveryToS3.DataFreshness"),
        ("AWS/Firehose", "ExecuteProcessing.Success"),
        ("EtlShowdown", "RecordsProcessingFailed"),
        ("AWS/Lambda", "Errors"),
        ("Glue", "glue.driver.streaming.maxConsumerLagInMs"),
    }


def test_outputs_give_the_harness_what_it_reads(expanded):
    assert set(expanded["Outputs"]) >= {*REQUIRED_OUTPUTS, "GlueCheckpointLocation"}
    outputs = Template().resolve(Template().body["Outputs"])
    function = Template().resource("FirehoseTransformFunction")
    assert outputs["FunctionLogGroup"]["Value"] == function["LoggingConfig"]["LogGroup"]
    arguments = Template().resource("GlueStreamingJob")["DefaultArguments"]
    assert outputs["GlueOutputRoot"]["Value"] == arguments["--output_root"]
    assert outputs["GlueCheckpointLocation"]["Value"] == arguments["--checkpoint_location"]
    prefix = Template().resource("TelemetryDeliveryStream")["ExtendedS3DestinationConfiguration"]["Prefix"]
    assert prefix == outputs["FirehoseCuratedPrefix"]["Value"]


# ---- least privilege ------------------------------------------------------------------------------------------


def policy_statements(resources: dict[str, Any]) -> Iterator[tuple[str, dict]]:
    """Every identity-policy statement of every role and policy, with where it comes from."""
    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        documents = []
        if kind == "AWS::IAM::Role":
            documents = [(p["PolicyName"], p["PolicyDocument"]) for p in properties.get("Policies", [])]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [(logical_id, properties["PolicyDocument"])]
        for name, document in documents:
            statements = document["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                yield f"{logical_id}/{name}/{statement.get('Sid', '?')}", statement


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _is_specific(resource: Any, declared: set[str]) -> bool:
    """True for an ARN built from the template's resources or parameters, or naming one fixed resource
    (no wildcard but a log group's trailing ':*', which stands for its streams)."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return resource["Fn::GetAtt"][0] in declared
    if isinstance(resource, dict) and "Ref" in resource:
        return resource["Ref"] in declared
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = _as_list(resource["Fn::Sub"])[0]
        names = {part.split("}", 1)[0].split(".", 1)[0] for part in text.split("${")[1:]}
        if names & declared:
            return True
        return _fixed(text) and not names - PSEUDO_PARAMETERS
    return isinstance(resource, str) and _fixed(resource)


def _fixed(arn: str) -> bool:
    if ":log-group:" in arn:
        arn = arn.removesuffix(":*")
    return "*" not in arn


def privilege_problems(resources: dict[str, Any], parameters: dict[str, Any]) -> list[str]:
    """What makes a role broader than its job: wildcards, managed policies, Not* elements, unnamed resources."""
    declared = set(resources) | set(parameters)
    problems = []
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role" and resource.get("Properties", {}).get("ManagedPolicyArns"):
            problems.append(f"{logical_id}: managed policies cannot be checked here; write the statements out")
    for where, statement in policy_statements(resources):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{where}: NotAction/NotResource")
            continue
        actions = [str(a) for a in _as_list(statement["Action"])]
        targets = _as_list(statement["Resource"])
        for action in actions:
            if action == "*" or action.endswith(":*"):
                problems.append(f"{where}: wildcard action {action}")
        if "*" in targets:
            beyond = [a for a in actions if a not in NO_RESOURCE_LEVEL_ACTIONS]
            if beyond:
                problems.append(f"{where}: {beyond} on Resource '*'")
            if any(a in CONDITION_REQUIRED for a in actions) and not statement.get("Condition"):
                problems.append(f"{where}: {actions} on '*' without a condition")
        for target in targets:
            if target != "*" and not _is_specific(target, declared):
                problems.append(f"{where}: resource {target!r} names nothing this template declares")
    return problems


def test_every_role_names_only_the_resources_it_needs(expanded):
    resources = expanded["Resources"]
    assert privilege_problems(resources, expanded["Parameters"]) == []
    roles = {k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    assert roles == {"FirehoseRole", "FirehoseTransformFunctionRole", "GlueLibsPublisherRole", "GlueJobRole"}


def _statement(resources: dict, role: str, sid: str) -> dict:
    (found,) = [s for where, s in policy_statements({role: resources[role]}) if where.endswith(f"/{sid}")]
    return found


def test_the_firehose_role_reaches_exactly_its_stream_bucket_function_and_log_stream(expanded):
    resources = expanded["Resources"]
    assert _statement(resources, "FirehoseRole", "ReadSourceStream")["Resource"] == get_att("TelemetryStream")
    invoke = _statement(resources, "FirehoseRole", "InvokeTransform")
    assert set(invoke["Action"]) == {"lambda:InvokeFunction", "lambda:GetFunctionConfiguration"}
    assert invoke["Resource"] == get_att("FirehoseTransformFunction")
    assert _statement(resources, "FirehoseRole", "WriteFirehosePrefix")["Resource"] == {
        "Fn::Sub": "${DataBucket.Arn}/firehose/*"
    }
    assert "FirehoseS3DeliveryLogStream" in _statement(resources, "FirehoseRole", "DeliveryLogs")["Resource"]["Fn::Sub"]


def test_the_glue_role_reads_the_stream_and_writes_only_its_prefixes(expanded):
    resources = expanded["Resources"]
    assert _statement(resources, "GlueJobRole", "ReadSourceStream")["Resource"] == get_att("TelemetryStream")
    writes = _statement(resources, "GlueJobRole", "WriteOutputAndCheckpoints")["Resource"]
    assert writes == [{"Fn::Sub": "${DataBucket.Arn}/glue/*"}, {"Fn::Sub": "${DataBucket.Arn}/checkpoints/glue/*"}]
    metrics = _statement(resources, "GlueJobRole", "JobMetrics")
    assert metrics["Condition"]["StringEquals"]["cloudwatch:namespace"] == ["Glue", "EtlShowdown"]


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "wildcard action"),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": {"Fn::GetAtt": ["DataBucket", "Arn"]}}, "wildcard action"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "on Resource '*'"),
        ({"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}, "without a condition"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"}, "names nothing"),
        ({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "arn:aws:logs:*:*:*"}, "names nothing"),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}},
            "names nothing",
        ),
    ],
)
def test_the_privilege_checker_catches_broad_statements(statement, problem):
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [statement]}}]},
    }
    problems = privilege_problems({"R": role, "DataBucket": {"Type": "AWS::S3::Bucket"}}, {})
    assert any(problem in p for p in problems), problems


# ---- samconfig.toml -------------------------------------------------------------------------------------------


def test_samconfig_has_sane_account_free_defaults():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert config["default"]["global"]["parameters"]["stack_name"]
    assert deploy["resolve_s3"] is True and deploy["confirm_changeset"] is True
    assert "CAPABILITY_IAM" in deploy["capabilities"].split()
    assert deploy["region"] == "us-east-1"
    declared = Template().body["Parameters"]
    for item in deploy["parameter_overrides"]:
        name, _, value = item.partition("=")
        assert str(declared[name]["Default"]) == value, (
            f"{name}: samconfig says {value}, the template's default differs"
        )
    text = (ROOT / "samconfig.toml").read_text()
    assert not any(word.isdigit() and len(word) == 12 for word in text.replace('"', " ").split()), "an account id?"
