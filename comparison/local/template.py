"""template.yaml as the local runtime's configuration: what `sam deploy` would create, resolved locally.

Parameters take their template defaults, or overrides checked against the template's own
constraints (MinValue, MaxValue, AllowedValues), so that a local run cannot use a value the deployed
stack would refuse. Intrinsic functions resolve as CloudFormation would, with local stand-ins for
what only a stack has (a resource's ARN becomes `arn:local:<resource>`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "template.yaml"
_SHORT_FORMS = {"Ref": "Ref", "Condition": "Condition"}


class TemplateError(ValueError):
    """The template, or a value given for one of its parameters, is not usable."""


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !If, ...) read as long forms."""


def _construct(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SHORT_FORMS.get(suffix, f"Fn::{suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _construct)


def _number(text: Any) -> float:
    return float(text)


class Template:
    """template.yaml with parameter values chosen: resources' properties come back resolved."""

    def __init__(self, path: Path = TEMPLATE, overrides: dict[str, Any] | None = None, region: str = "us-east-1"):
        try:
            self.body = yaml.load(Path(path).read_text(), Loader=_Loader)
        except (OSError, yaml.YAMLError) as error:
            raise TemplateError(f"cannot read {path}: {error}") from None
        self.path = Path(path)
        self.region = region
        self.parameters = self._parameters(overrides or {})
        self.conditions = {name: bool(self.resolve(body)) for name, body in self.body.get("Conditions", {}).items()}

    def _parameters(self, overrides: dict[str, Any]) -> dict[str, Any]:
        declared = self.body.get("Parameters", {})
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise TemplateError(f"unknown template parameter(s): {', '.join(unknown)} (see {self.path.name})")
        values = {}
        for name, spec in declared.items():
            raw = overrides.get(name, spec.get("Default"))
            if raw is None:
                raise TemplateError(f"template parameter {name} has no default: give it a value")
            values[name] = self._checked(name, spec, raw)
        return values

    @staticmethod
    def _checked(name: str, spec: dict[str, Any], raw: Any) -> Any:
        allowed = spec.get("AllowedValues")
        if spec.get("Type") == "Number":
            try:
                value = _number(raw)
            except (TypeError, ValueError):
                raise TemplateError(f"{name}={raw!r} is not a number") from None
            low, high = spec.get("MinValue"), spec.get("MaxValue")
            if (low is not None and value < _number(low)) or (high is not None and value > _number(high)):
                raise TemplateError(f"{name}={raw} is outside its allowed range {low}..{high} (template parameter)")
            if allowed and value not in {_number(a) for a in allowed}:
                raise TemplateError(f"{name}={raw} is not one of {allowed}")
            return int(value) if value.is_integer() else value
        value = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if allowed and value not in [str(a) for a in allowed]:
            raise TemplateError(f"{name}={value!r} is not one of {allowed} (template parameter)")
        return value

    def resolve(self, value: Any) -> Any:
        """A template value with every intrinsic function evaluated."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                resource, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return f"arn:local:{resource}" if attribute == "Arn" else f"local:{resource}.{attribute}"
            if key == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.conditions[name] else when_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(argument[0])
            if key == "Condition":
                return self.conditions[argument]
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name == "AWS::Region":
            return self.region
        if name in ("AWS::StackName", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"):
            return {"AWS::StackName": "local", "AWS::AccountId": "000000000000", "AWS::Partition": "aws"}.get(
                name, "amazonaws.com"
            )
        if name in self.body.get("Resources", {}):
            return f"local-{name}"
        raise TemplateError(f"!Ref {name} names nothing in {self.path.name}")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {key: self.resolve(item) for key, item in variables.items()}

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self.resolve({"Fn::GetAtt": name.split(".", 1)}))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!][^}]*)\}", replace, text)

    def resource(self, logical_id: str, kind: str | None = None) -> dict[str, Any]:
        """The resolved Properties of one resource (checking its Type when given)."""
        resources = self.body.get("Resources", {})
        if logical_id not in resources:
            raise TemplateError(f"{self.path.name} has no resource {logical_id}")
        body = resources[logical_id]
        if kind and body.get("Type") != kind:
            raise TemplateError(f"{logical_id} is a {body.get('Type')}, not a {kind}")
        return self.resolve(body.get("Properties", {}))
