"""The local template resolver (comparison/local/template.py) on the constructs template.yaml uses."""

from __future__ import annotations

import textwrap

import pytest

from comparison.local.template import Template, TemplateError


def template_of(tmp_path, text: str, **overrides) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return Template(path, overrides=overrides)


BODY = """
Parameters:
  Mode: {Type: String, Default: ON_DEMAND, AllowedValues: [ON_DEMAND, PROVISIONED]}
  Shards: {Type: Number, Default: 1}
  Email: {Type: String, Default: "", AllowedPattern: "|[^@]+@[^@]+"}
Conditions:
  Provisioned: !Equals [!Ref Mode, PROVISIONED]
  # Uses a condition declared after it: CloudFormation allows any order.
  ProvisionedOrMail: !Or [!Condition Provisioned, !Condition HasEmail]
  Both: !And [!Condition Provisioned, !Condition HasEmail]
  HasEmail: !Not [!Equals [!Ref Email, ""]]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {AutoPublishAlias: live}
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamModeDetails: {StreamMode: !Ref Mode}
      ShardCount: !If [Provisioned, !Ref Shards, !Ref AWS::NoValue]
      Tags:
        - !If [HasEmail, {Key: owner, Value: !Ref Email}, !Ref AWS::NoValue]
        - {Key: arn, Value: !Sub "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/x"}
        - {Key: version, Value: !Ref Fn.Version}
"""


def test_no_value_removes_the_property_or_list_item_that_holds_it(tmp_path):
    stream = template_of(tmp_path, BODY).resource("Stream")
    assert "ShardCount" not in stream
    assert [tag["Key"] for tag in stream["Tags"]] == ["arn", "version"]
    assert stream["Tags"][0]["Value"] == "arn:aws:kinesis:us-east-1:000000000000:stream/x"
    assert stream["Tags"][1]["Value"] == "local-Fn.Version"
    provisioned = template_of(tmp_path, BODY, Mode="PROVISIONED", Shards=3, Email="a@b.c").resource("Stream")
    assert provisioned["ShardCount"] == 3 and provisioned["Tags"][0] == {"Key": "owner", "Value": "a@b.c"}


def test_and_or_and_conditions_that_use_later_conditions(tmp_path):
    default = template_of(tmp_path, BODY)
    assert default.conditions == {"Provisioned": False, "ProvisionedOrMail": False, "Both": False, "HasEmail": False}
    mail = template_of(tmp_path, BODY, Email="a@b.c")
    assert (mail.conditions["ProvisionedOrMail"], mail.conditions["Both"]) == (True, False)
    both = template_of(tmp_path, BODY, Email="a@b.c", Mode="PROVISIONED")
    assert both.conditions["Both"] is True


def test_a_loop_of_conditions_is_a_clear_error(tmp_path):
    loop = """
    Conditions:
      A: !Condition B
      B: !Not [!Condition A]
    Resources: {}
    """
    with pytest.raises(TemplateError, match="loop: A -> B -> A"):
        template_of(tmp_path, loop)


def test_allowed_pattern_is_enforced_on_the_whole_value(tmp_path):
    with pytest.raises(TemplateError, match="does not match its AllowedPattern"):
        template_of(tmp_path, BODY, Email="not an address")
    with pytest.raises(TemplateError, match="does not match"):
        Template(overrides={"GlueAggregateWindow": "1 minute please"})
    assert Template(overrides={"GlueAggregateWindow": "30 seconds"}).parameters["GlueAggregateWindow"] == "30 seconds"


def test_a_dotted_ref_to_something_else_still_names_nothing(tmp_path):
    text = BODY + "  Bad:\n    Type: X\n    Properties: {V: !Ref Stream.Version}\n"
    with pytest.raises(TemplateError, match="names nothing"):
        template_of(tmp_path, text).resource("Bad")
