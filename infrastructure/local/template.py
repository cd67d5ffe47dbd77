"""Reads template.yaml (CloudFormation short tags, SAM Globals) and resolves intrinsic functions against local values."""

from __future__ import annotations

import base64
import graphlib
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

logger = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
STACK_NAME = "prm-local"

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """The template uses something the local stack cannot resolve."""


class _NoValue:
    """Marker for AWS::NoValue: the enclosing key or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


# ---------------------------------------------------------------------------------------------- loading


class CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation short tags (!Ref, !GetAtt, !Sub, ...) into their long form."""


def _construct(node: yaml.Node, loader: CfnLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise TemplateError(f"unsupported YAML node {node!r}")


def _tag_constructor(name: str) -> Callable[[CfnLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        return {name: _construct(node, loader)}

    return construct


def _get_att_constructor(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(node, loader)
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {"Fn::GetAtt": value}


CfnLoader.add_constructor("!Ref", _tag_constructor("Ref"))
CfnLoader.add_constructor("!Condition", _tag_constructor("Condition"))
CfnLoader.add_constructor("!GetAtt", _get_att_constructor)
for _name in (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Length",
):
    CfnLoader.add_constructor(f"!{_name}", _tag_constructor(f"Fn::{_name}"))


def load_yaml(text: str) -> Any:
    """Parse CloudFormation YAML text into plain Python data with intrinsics in long form."""
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader subclass


def load_template(path: Path) -> dict[str, Any]:
    """Read a template file."""
    document = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template")
    return document


# ---------------------------------------------------------------------------------------------- helpers


def physical_name(logical_id: str, *, max_length: int = 64, lower: bool = False) -> str:
    """A deterministic name for a resource the template leaves unnamed, shaped like CloudFormation's."""
    suffix = hashlib.sha256(f"{STACK_NAME}/{logical_id}".encode()).hexdigest()[:12].upper()
    name = f"{STACK_NAME}-{logical_id}"[: max_length - len(suffix) - 1] + f"-{suffix}"
    return name.lower() if lower else name


def merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """Merge SAM Globals into resource properties: maps merge, lists add up (globals first), scalars are overridden."""
    merged: dict[str, Any] = dict(global_props)
    for key, value in props.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping) and not _is_intrinsic(value):
            merged[key] = merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = [*current, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _INTRINSIC_KEYS


_INTRINSIC_KEYS = frozenset(
    {"Ref", "Condition"}
    | {f"Fn::{n}" for n in ("GetAtt", "Sub", "Join", "Select", "Split", "If", "FindInMap")}
    | {f"Fn::{n}" for n in ("Base64", "GetAZs", "ImportValue", "Equals", "And", "Or", "Not", "Cidr")}
    | {"Fn::ToJsonString", "Fn::Length"}
)


def sub_references(template_string: str) -> Iterator[str]:
    """The variable names a Fn::Sub string uses (without ${!literals})."""
    for match in _SUB_VARIABLE.finditer(template_string):
        name = match.group(1).strip()
        if not name.startswith("!"):
            yield name


def references(node: Any) -> set[str]:
    """Logical ids (resources or parameters) a piece of the template refers to."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, Mapping):
        if "Ref" in node and len(node) == 1 and isinstance(node["Ref"], str):
            found.add(node["Ref"])
        elif "Fn::GetAtt" in node and len(node) == 1:
            target = node["Fn::GetAtt"]
            if isinstance(target, list) and target and isinstance(target[0], str):
                found.add(target[0])
            elif isinstance(target, str):
                found.add(target.split(".", 1)[0])
        elif "Fn::Sub" in node and len(node) == 1:
            value = node["Fn::Sub"]
            text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
            if isinstance(text, str):
                found |= {name.split(".", 1)[0] for name in sub_references(text) if name not in variables}
            found |= references(variables)
        else:
            for value in node.values():
                found |= references(value)
    return found


# ---------------------------------------------------------------------------------------------- resolution


def _check_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    """Apply the constraints CloudFormation checks before a deployment, so a bad --param fails as it would in AWS."""
    problems = []
    if "AllowedValues" in spec and value not in {str(allowed) for allowed in spec["AllowedValues"]}:
        problems.append(f"must be one of {spec['AllowedValues']}")
    if "AllowedPattern" in spec and not re.fullmatch(str(spec["AllowedPattern"]), value):
        problems.append(f"must match {spec['AllowedPattern']}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        problems.append(f"must be at least {spec['MinLength']} characters")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        problems.append(f"must be at most {spec['MaxLength']} characters")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            problems.append("must be a number")
        else:
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"must be at least {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"must be at most {spec['MaxValue']}")
    if problems:
        raise TemplateError(f"parameter {name}={value!r} {' and '.join(problems)}")


@dataclass
class ResourceValues:
    """What Ref and Fn::GetAtt return for one created resource."""

    ref: Any
    attrs: dict[str, Any] = field(default_factory=dict)
    placeholder: bool = False  # a skipped resource: any attribute resolves to a recognisable dummy


class Template:
    """A loaded template with parameters bound, conditions evaluated and resolution against created resources."""

    def __init__(
        self,
        document: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        *,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
        stack_name: str = STACK_NAME,
    ) -> None:
        self.document = document
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self.resources: dict[str, dict[str, Any]] = dict(document.get("Resources") or {})
        self.values: dict[str, ResourceValues] = {}
        self.parameters = self._bind_parameters(dict(document.get("Parameters") or {}), dict(parameters or {}))
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self._conditions: dict[str, bool] = {}
        self._condition_definitions: dict[str, Any] = dict(document.get("Conditions") or {})

    @staticmethod
    def _bind_parameters(declared: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(f"unknown template parameters: {', '.join(sorted(unknown))}")
        bound: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"template parameter {name} has no default and no value was given")
            value = str(value)
            _check_parameter(name, spec, value)
            if str(spec.get("Type", "String")).startswith(("CommaDelimitedList", "List<")):
                bound[name] = [item.strip() for item in value.split(",")]
            else:
                bound[name] = value
        return bound

    # ------------------------------------------------------------------ structure

    def resources_of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """The template's resources of the given types whose Condition holds, in template order."""
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource.get("Type") in types and self.resource_enabled(logical_id)
        }

    def resource_enabled(self, logical_id: str) -> bool:
        """Whether a resource's Condition (if any) holds."""
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(str(condition))

    def properties(self, logical_id: str) -> dict[str, Any]:
        """A resource's raw properties, with SAM Globals merged in for serverless resources."""
        resource = self.resources[logical_id]
        props: dict[str, Any] = dict(resource.get("Properties") or {})
        section = {
            "AWS::Serverless::Function": "Function",
            "AWS::Serverless::Api": "Api",
            "AWS::Serverless::StateMachine": "StateMachine",
            "AWS::Serverless::SimpleTable": "SimpleTable",
            "AWS::Serverless::HttpApi": "HttpApi",
            "AWS::Serverless::LayerVersion": "LayerVersion",
        }.get(str(resource.get("Type")))
        if section:
            global_props = (self.document.get("Globals") or {}).get(section) or {}
            props = merge_globals(global_props, props)
        return props

    def creation_order(self) -> list[str]:
        """Enabled resources sorted so that each comes after the resources it refers to."""
        enabled = [logical_id for logical_id in self.resources if self.resource_enabled(logical_id)]
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for logical_id in enabled:
            resource = self.resources[logical_id]
            depends = resource.get("DependsOn") or []
            deps = references(self.properties(logical_id)) | set([depends] if isinstance(depends, str) else depends)
            sorter.add(logical_id, *sorted(dep for dep in deps if dep in self.resources and dep != logical_id))
        try:
            ordered = list(sorter.static_order())
        except graphlib.CycleError as error:
            raise TemplateError(f"circular references between resources: {error.args[1]}") from error
        return [logical_id for logical_id in ordered if logical_id in enabled]

    # ------------------------------------------------------------------ conditions

    def condition(self, name: str) -> bool:
        """Evaluate a named condition."""
        if name not in self._conditions:
            if name not in self._condition_definitions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self._evaluate_condition(self._condition_definitions[name]))
        return self._conditions[name]

    def _evaluate_condition(self, node: Any) -> bool:
        if isinstance(node, Mapping) and len(node) == 1:
            (key, value), *_ = node.items()
            if key == "Condition":
                return self.condition(str(value))
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in value)
                return str(left) == str(right)
            if key == "Fn::And":
                return all(self._evaluate_condition(item) for item in value)
            if key == "Fn::Or":
                return any(self._evaluate_condition(item) for item in value)
            if key == "Fn::Not":
                return not self._evaluate_condition(value[0])
        raise TemplateError(f"unsupported condition {node!r}")

    # ------------------------------------------------------------------ values

    def ref(self, name: str) -> Any:
        """What Ref returns for a parameter, pseudo parameter or created resource."""
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.values:
            return self.values[name].ref
        if name in self.resources:
            raise TemplateError(f"Ref {name}: resource not created (yet)")
        raise TemplateError(f"Ref to unknown name {name}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """What Fn::GetAtt returns for a created resource."""
        values = self.values.get(logical_id)
        if values is None:
            state = "not created (yet)" if logical_id in self.resources else "unknown"
            raise TemplateError(f"GetAtt {logical_id}.{attribute}: resource {state}")
        if values.placeholder:
            return f"{logical_id}.{attribute}.local"
        if attribute not in values.attrs:
            raise TemplateError(f"GetAtt {logical_id}.{attribute}: attribute not available locally")
        return values.attrs[attribute]

    def resolve(self, node: Any) -> Any:
        """Resolve every intrinsic function inside node; AWS::NoValue entries disappear."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if isinstance(node, Mapping):
            if len(node) == 1:
                (key, value), *_ = node.items()
                if key in _INTRINSIC_KEYS and key != "Condition":
                    return self._intrinsic(key, value)
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not NO_VALUE}
        return node

    def _intrinsic(self, key: str, value: Any) -> Any:
        if key in {"Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"}:
            return self._evaluate_condition({key: value})
        evaluate = self._FUNCTIONS.get(key)
        if evaluate is None:
            raise TemplateError(f"{key} is not supported by the local stack")
        return evaluate(self, value)

    def _ref(self, value: Any) -> Any:
        return self.ref(str(self.resolve(value)))

    def _get_att_of(self, value: Any) -> Any:
        target = value.split(".", 1) if isinstance(value, str) else self.resolve(value)
        return self.get_att(str(target[0]), str(target[1]))

    def _join(self, value: Any) -> str:
        delimiter, items = value
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _select(self, value: Any) -> Any:
        index, items = (self.resolve(item) for item in value)
        return items[int(index)]

    def _split(self, value: Any) -> list[str]:
        delimiter, text = (self.resolve(item) for item in value)
        return str(text).split(str(delimiter))

    def _if(self, value: Any) -> Any:
        name, when_true, when_false = value
        return self.resolve(when_true if self.condition(str(name)) else when_false)

    def _find_in_map(self, value: Any) -> Any:
        map_name, top, second = (self.resolve(item) for item in value)
        return self.resolve(self.document["Mappings"][map_name][top][second])

    def _base64(self, value: Any) -> str:
        return base64.b64encode(str(self.resolve(value)).encode()).decode()

    def _get_azs(self, value: Any) -> list[str]:
        return [f"{self.region}{zone}" for zone in "abcdef"]

    def _to_json_string(self, value: Any) -> str:
        return json.dumps(self.resolve(value), separators=(",", ":"))

    def _length(self, value: Any) -> int:
        return len(self.resolve(value))

    def _sub(self, value: Any) -> str:
        if isinstance(value, list):
            text, variables = value[0], {name: self.resolve(item) for name, item in (value[1] or {}).items()}
        else:
            text, variables = value, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))

    # Intrinsic function -> how it resolves (the condition functions go through _evaluate_condition).
    _FUNCTIONS: ClassVar[dict[str, Callable[[Template, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att_of,
        "Fn::Sub": _sub,
        "Fn::Join": _join,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::If": _if,
        "Fn::FindInMap": _find_in_map,
        "Fn::Base64": _base64,
        "Fn::GetAZs": _get_azs,
        "Fn::ToJsonString": _to_json_string,
        "Fn::Length": _length,
    }

    def outputs(self) -> dict[str, Any]:
        """The template's Outputs that resolve locally (outputs naming skipped resources are left out)."""
        resolved: dict[str, Any] = {}
        for name, output in (self.document.get("Outputs") or {}).items():
            try:
                resolved[name] = self.resolve(output.get("Value"))
            except TemplateError as error:
                logger.debug("output %s not available locally: %s", name, error)
        return resolved
