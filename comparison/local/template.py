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
# What `!Ref AWS::NoValue` resolves to: the property, or list item, that holds it is removed.
_NO_VALUE = object()


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
        self.conditions: dict[str, bool] = {}
        self._evaluating: tuple[str, ...] = ()
        for name in self.body.get("Conditions", {}):
            self._condition(name)

    def _condition(self, name: str) -> bool:
        """One condition's value; a condition may use others (`Condition: Name`), in any order."""
        if name in self.conditions:
            return self.conditions[name]
        declared = self.body.get("Conditions", {})
        if name not in declared:
            raise TemplateError(f"condition {name} is not declared in {self.path.name}")
        evaluating = self._evaluating
        if name in evaluating:
            raise TemplateError(f"conditions refer to each other in a loop: {' -> '.join((*evaluating, name))}")
        self._evaluating = (*evaluating, name)
        try:
            self.conditions[name] = bool(self.resolve(declared[name]))
        finally:
            self._evaluating = evaluating
        return self.conditions[name]

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
        # CloudFormation matches AllowedPattern against the whole value (a Java regex; these templates use
        # only the syntax Python shares with it).
        pattern = spec.get("AllowedPattern")
        if pattern is not None and re.fullmatch(pattern, value) is None:
            raise TemplateError(f"{name}={value!r} does not match its AllowedPattern {pattern!r} (template parameter)")
        return value

    def resolve(self, value: Any) -> Any:
        """A template value with every intrinsic function evaluated (AWS::NoValue removes what holds it)."""
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self._resolve, value) if item is not _NO_VALUE]
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
                return self._resolve(when_true if self._condition(name) else when_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(argument[0])
            if key == "Fn::And":
                return all(bool(self.resolve(item)) for item in argument)
            if key == "Fn::Or":
                return any(bool(self.resolve(item)) for item in argument)
            if key == "Condition":
                return self._condition(argument)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name == "AWS::Region":
            return self.region
        if name in ("AWS::StackName", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"):
            return {"AWS::StackName": "local", "AWS::AccountId": "000000000000", "AWS::Partition": "aws"}.get(
                name, "amazonaws.com"
            )
        if name == "AWS::NoValue":
            return _NO_VALUE
        resources = self.body.get("Resources", {})
        if name in resources:
            return f"local-{name}"
        # SAM's references to what a function with AutoPublishAlias creates: `!Ref Function.Version`, `.Alias`.
        resource, _, attribute = name.partition(".")
        if attribute in ("Version", "Alias") and resources.get(resource, {}).get("Type") == "AWS::Serverless::Function":
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
