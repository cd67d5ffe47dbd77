"""The local stack's template loader and resolver: CloudFormation short tags, intrinsics, SAM Globals, ordering."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure.local.template import (
    ResourceValues,
    Template,
    TemplateError,
    load_template,
    load_yaml,
    merge_globals,
    physical_name,
    references,
)

REPO = Path(__file__).resolve().parents[2]

SNIPPET = """
Parameters:
  Stage:
    Type: String
    Default: dev
  Names:
    Type: CommaDelimitedList
    Default: "a, b,c"
  Size:
    Type: Number
    Default: 3
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
Resources:
  Dlq:
    Type: AWS::SQS::Queue
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub prm-${Stage}-queue
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 5
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - Key: arn
          Value: !Sub "${Bucket.Arn}/*"
        - Key: literal
          Value: !Sub "${!NotAVariable}-${AWS::Region}"
        - Key: mapped
          Value: !Sub
            - "${Domain}/${Path}@${Stage}"
            - Domain: !GetAtt [Bucket, RegionalDomainName]
              Path: !Join ["/", [a, !Ref Stage, !Select [1, !Ref Names]]]
        - Key: conditional
          Value: !If [IsProd, big, !Ref AWS::NoValue]
        - !If [NotProd, {Key: shown, Value: !Ref Size}, !Ref AWS::NoValue]
        - Key: split
          Value: !Select [2, !Split [",", "x,y,z"]]
    DependsOn: Queue
"""


@pytest.fixture
def template() -> Template:
    bound = Template(load_yaml(SNIPPET))
    bound.values["Dlq"] = ResourceValues(ref="https://dlq", attrs={"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"})
    bound.values["Bucket"] = ResourceValues(
        ref="bucket",
        attrs={"Arn": "arn:aws:s3:::bucket", "RegionalDomainName": "bucket.s3.us-east-1.amazonaws.com"},
    )
    return bound


def test_short_tags_become_long_form_intrinsics() -> None:
    loaded = load_yaml(
        """
        a: !Ref Thing
        b: !GetAtt Thing.Arn
        c: !GetAtt [Thing, StreamArn]
        d: !Sub "x-${Thing}"
        e: !Sub ["${A}", {A: !Ref B}]
        f: !Join [",", [!Ref A, b]]
        g: !Select [0, !GetAZs ""]
        h: !If [Cond, 1, 2]
        """
    )
    assert loaded == {
        "a": {"Ref": "Thing"},
        "b": {"Fn::GetAtt": ["Thing", "Arn"]},
        "c": {"Fn::GetAtt": ["Thing", "StreamArn"]},
        "d": {"Fn::Sub": "x-${Thing}"},
        "e": {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]},
        "f": {"Fn::Join": [",", [{"Ref": "A"}, "b"]]},
        "g": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "h": {"Fn::If": ["Cond", 1, 2]},
    }


def test_sub_resolves_parameters_attributes_pseudo_parameters_and_literals(template: Template) -> None:
    queue = template.resolve(template.properties("Queue"))
    assert queue == {
        "QueueName": "prm-dev-queue",
        "RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq", "maxReceiveCount": 5},
    }
    tags = {tag["Key"]: tag.get("Value") for tag in template.resolve(template.properties("Bucket"))["Tags"]}
    assert tags["arn"] == "arn:aws:s3:::bucket/*"
    assert tags["literal"] == "${NotAVariable}-us-east-1"


def test_sub_with_variable_map_join_select_and_getatt_list_form(template: Template) -> None:
    tags = {tag["Key"]: tag.get("Value") for tag in template.resolve(template.properties("Bucket"))["Tags"]}
    assert tags["mapped"] == "bucket.s3.us-east-1.amazonaws.com/a/dev/b@dev"
    assert tags["split"] == "z"


def test_conditions_and_no_value(template: Template) -> None:
    tags = template.resolve(template.properties("Bucket"))["Tags"]
    assert {"Key": "conditional"} in tags  # the NoValue property disappeared
    assert {"Key": "shown", "Value": "3"} in tags  # Number parameters resolve to strings, like CloudFormation


def test_parameter_overrides_and_unknown_parameters() -> None:
    bound = Template(load_yaml(SNIPPET), {"Stage": "prod"})
    assert bound.ref("Stage") == "prod"
    assert bound.condition("IsProd") is True
    assert bound.ref("Names") == ["a", "b", "c"]
    with pytest.raises(TemplateError, match="Nope"):
        Template(load_yaml(SNIPPET), {"Nope": "1"})


def test_pseudo_parameters() -> None:
    bound = Template(load_yaml(SNIPPET))
    resolved = bound.resolve(
        {"Fn::Sub": "${AWS::Partition}:${AWS::Region}:${AWS::AccountId}:${AWS::URLSuffix}:${AWS::StackName}"}
    )
    assert resolved == "aws:us-east-1:123456789012:amazonaws.com:prm-local"


def test_unresolvable_references_fail_loudly(template: Template) -> None:
    with pytest.raises(TemplateError, match="Queue"):
        template.resolve({"Ref": "Queue"})  # not created yet
    with pytest.raises(TemplateError, match="Missing"):
        template.resolve({"Fn::GetAtt": ["Missing", "Arn"]})
    with pytest.raises(TemplateError, match="Nope"):
        template.resolve({"Fn::GetAtt": ["Dlq", "Nope"]})


def test_creation_order_follows_references_and_depends_on(template: Template) -> None:
    order = template.creation_order()
    assert order.index("Dlq") < order.index("Queue") < order.index("Bucket")


def test_references_finds_sub_variables_but_not_literals_or_map_keys() -> None:
    assert references({"Fn::Sub": ["${A}-${B.Arn}-${!C}-${AWS::Region}", {"A": {"Ref": "D"}}]}) == {
        "B",
        "D",
        "AWS::Region",
    }


def test_globals_merge_like_sam() -> None:
    merged = merge_globals(
        {"Timeout": 20, "Layers": ["shared"], "Environment": {"Variables": {"A": "global", "B": "global"}}},
        {"Timeout": 60, "Layers": ["own"], "Environment": {"Variables": {"B": "own", "C": "own"}}},
    )
    assert merged == {
        "Timeout": 60,
        "Layers": ["shared", "own"],
        "Environment": {"Variables": {"A": "global", "B": "own", "C": "own"}},
    }


def test_physical_names_are_deterministic_and_bounded() -> None:
    assert physical_name("PortalBucket", max_length=63, lower=True) == physical_name(
        "PortalBucket", max_length=63, lower=True
    )
    assert physical_name("PortalBucket", max_length=63, lower=True).islower()
    assert len(physical_name("X" * 200, max_length=64)) == 64


def test_the_project_template_loads_with_globals_and_only_known_references() -> None:
    template = Template(load_template(REPO / "template.yaml"))
    functions = template.resources_of_type("AWS::Serverless::Function")
    assert functions
    for logical_id in functions:
        props = template.properties(logical_id)
        assert "POWERTOOLS_METRICS_NAMESPACE" in props["Environment"]["Variables"], logical_id
        assert props["Layers"], logical_id
    known = set(template.resources) | set(template.parameters) | set(template.pseudo)
    for logical_id in template.resources:
        unknown = references(template.properties(logical_id)) - known
        assert not unknown, f"{logical_id} refers to {unknown}"
    order = template.creation_order()
    assert set(order) == set(template.resources)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("Stage", "Prod!", "must match"),
        ("ApprovalReminderSeconds", "0", "at least 1"),
        ("ApprovalLinkTtlSeconds", "x", "number"),
    ],
)
def test_parameter_constraints_are_checked_like_cloudformation(name: str, value: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        Template(load_template(REPO / "template.yaml"), {name: value})
