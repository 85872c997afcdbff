"""The console's valuation form, generated from the request models.

`request_fields` and `method_forms` walk the pydantic fields of
`ipvalue.models.valuation.ValuationRequest` and of every model its ``methods`` list may hold
(the members of the discriminated union), so a new method, or a new field of one, appears in
the form without a template edit. Each leaf becomes one input:

- a plain number, an integer, a date, a choice (``Literal``), yes/no (``bool``) or text;
- a number that may also be uncertain (a distribution) or derived (kind ``uncertain``) takes a
  plain number, or JSON for anything else (``{"dist": "triangular", ...}``);
- anything else (series, lists of objects, maps) takes JSON; a series also takes numbers
  separated by spaces or commas.

Nested models (``asset.legal``, ``obsolescence``, ``simulation``) are walked into, so their
fields are inputs too. An empty input is left out of the body, so the API's default applies.

`build_body` turns the posted form into the JSON body of ``POST /v1/valuations``; nothing is
validated here (text that is no number goes to the API as text, and the API's message names
the field). `field_messages` places the API's problem ``errors`` (``methods[0].royalty_rate``)
beside the input they name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ipvalue.models.uncertain import Bounds, DistributionBase
from ipvalue.models.valuation import ValuationRequest

Kind = Literal["number", "uncertain", "integer", "text", "date", "choice", "bool", "json"]
METHODS_FIELD = "methods"
"""The request field that holds the list of methods (one form block each)."""
_LIMITS = (
    (annotated_types.Ge, "ge", ">= {}"),
    (annotated_types.Gt, "gt", "> {}"),
    (annotated_types.Le, "le", "<= {}"),
    (annotated_types.Lt, "lt", "< {}"),
    (annotated_types.MinLen, "min_length", "at least {} long"),
    (annotated_types.MaxLen, "max_length", "at most {} long"),
)


@dataclass(frozen=True)
class FormField:
    """One input of the form.

    Attributes
    ----------
    path : tuple of str
        The field's path in its model (``("obsolescence", "functional")``).
    kind : str
        How the input is shown and its text read (`Kind`).
    required : bool
        The API refuses the body without it.
    choices : tuple of str
        The allowed values of a choice.
    default : str
        The API's default, as text ("" when there is none).
    hint : str
        The field's description and limits.
    """

    path: tuple[str, ...]
    kind: Kind
    required: bool
    choices: tuple[str, ...] = ()
    default: str = ""
    hint: str = ""

    @property
    def name(self) -> str:
        """The dotted path, as the API names the field (``legal.filing_date``)."""
        return ".".join(self.path)


@dataclass(frozen=True)
class MethodForm:
    """The inputs of one method."""

    method: str
    title: str
    fields: tuple[FormField, ...]


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """An annotation without its ``Annotated`` layers, and the metadata they carried."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata += extra
    return annotation, metadata


def _flatten(annotation: Any) -> tuple[list[Any], list[Any], bool]:
    """The plain member types of an annotation (unions and ``Annotated`` layers opened, to
    any depth), the metadata of its layers, and whether ``None`` is allowed."""
    bare, metadata = _strip(annotation)
    if typing.get_origin(bare) not in (typing.Union, types.UnionType):
        if bare is type(None):
            return [], [], True
        return [bare], metadata, False
    members: list[Any] = []
    optional = False
    for member in typing.get_args(bare):
        inner, meta, none = _flatten(member)
        members += inner
        optional = optional or none
        if len(typing.get_args(bare)) == 2 and inner:
            metadata += meta  # X | None: X's own limits are the field's
    return members, metadata, optional


def _is_model(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and not issubclass(annotation, DistributionBase)
    )


def _kind(members: list[Any]) -> tuple[Kind, tuple[str, ...]]:
    """How an input shows a field whose (flattened) types are ``members``."""
    if len(members) == 1:
        only = members[0]
        if typing.get_origin(only) is Literal:
            return "choice", tuple(str(v) for v in typing.get_args(only))
        simple: dict[Any, Kind] = {
            bool: "bool",
            int: "integer",
            float: "number",
            str: "text",
            dt.date: "date",
        }
        return simple.get(only, "json"), ()
    if float in members:
        return "uncertain", ()  # a number, or a distribution / derivation as JSON
    return "json", ()


def _hint(info: FieldInfo, metadata: list[Any]) -> str:
    """Description and limits of a field (its own and those of its annotation's layers)."""
    parts: list[str] = []
    found = [*info.metadata, *metadata]
    texts = [info.description] + [m.description for m in found if isinstance(m, FieldInfo)]
    parts += [t for t in texts if t]
    for item in found:
        inner = item.metadata if isinstance(item, FieldInfo) else [item]
        for meta in inner:
            if isinstance(meta, Bounds):
                parts.append(f"in {meta.describe()}" + (f": {meta.fix}" if meta.fix else ""))
            for cls, attribute, text in _LIMITS:
                if isinstance(meta, cls):
                    limit = getattr(meta, attribute)
                    parts.append(text.format(f"{limit:g}" if isinstance(limit, float) else limit))
            pattern = getattr(meta, "pattern", None)
            if isinstance(pattern, str):
                parts.append(f"matches {pattern}")
    return "; ".join(dict.fromkeys(parts))


def _default(info: FieldInfo) -> str:
    value = info.default
    if value is PydanticUndefined or value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict) and not value:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def fields_of(
    model: type[BaseModel], prefix: tuple[str, ...] = (), skip: frozenset[str] = frozenset()
) -> list[FormField]:
    """Every input of ``model``: its leaf fields, nested models walked into.

    Parameters
    ----------
    prefix : tuple of str
        The path of ``model`` in the body.
    skip : set of str
        Field names left out (the method discriminator, the methods list).
    """
    found: list[FormField] = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        members, metadata, optional = _flatten(info.annotation)
        if len(members) == 1 and _is_model(members[0]):
            inner = fields_of(members[0], (*prefix, name))
            required = info.is_required() and not optional
            found += [f if required else _optional(f) for f in inner]
            continue
        kind, choices = _kind(members)
        hint = _hint(info, metadata)
        shapes = [_shape(m) for m in members if _is_model(m)]
        if shapes:  # a series {"base", "growth", "years"}, a derivation {"build_up": {...}}
            hint = "; ".join(filter(None, [hint, "or " + " or ".join(shapes)]))
        found.append(
            FormField(
                path=(*prefix, name),
                kind=kind,
                required=info.is_required() and not optional,
                choices=choices,
                default=_default(info),
                hint=hint,
            )
        )
    return found


def _shape(model: type[BaseModel]) -> str:
    """The JSON object a model takes, by its keys: ``{"build_up": {"risk_free", ...}}``."""
    keys = []
    for name, info in model.model_fields.items():
        members, _, _ = _flatten(info.annotation)
        nested = len(members) == 1 and _is_model(members[0])
        keys.append(f'"{name}": {_shape(members[0])}' if nested else f'"{name}"')
    return "{" + ", ".join(keys) + "}"


def _optional(field: FormField) -> FormField:
    return FormField(field.path, field.kind, False, field.choices, field.default, field.hint)


def _method_models() -> tuple[str, list[type[BaseModel]]]:
    """The discriminator and the member models of the request's ``methods`` list."""
    info = ValuationRequest.model_fields[METHODS_FIELD]
    (item,) = typing.get_args(_strip(info.annotation)[0])
    members, metadata, _ = _flatten(item)
    discriminator = next(
        str(m.discriminator) for m in metadata if isinstance(m, FieldInfo) and m.discriminator
    )
    return discriminator, [m for m in members if _is_model(m)]


@cache
def method_forms() -> dict[str, MethodForm]:
    """Method name -> its inputs, in the order of the request model's union."""
    discriminator, models = _method_models()
    forms = {}
    for model in models:
        (name,) = typing.get_args(model.model_fields[discriminator].annotation)
        title = (model.__doc__ or name).strip().splitlines()[0]
        fields = tuple(fields_of(model, skip=frozenset({discriminator})))
        forms[str(name)] = MethodForm(str(name), title, fields)
    return forms


@cache
def request_fields() -> tuple[FormField, ...]:
    """The request's own inputs (asset, dates, currency, weights, simulation)."""
    return tuple(fields_of(ValuationRequest, skip=frozenset({METHODS_FIELD})))


def input_name(index: int, method: str, field: FormField) -> str:
    """The form input of ``field`` in method block ``index`` (unique across methods, so a
    page without JavaScript may show every method's inputs)."""
    return f"m{index}.{method}.{field.name}"


def api_name(index: int, field: FormField) -> str:
    """How the API names ``field`` of method ``index`` (``methods[0].royalty_rate``)."""
    return f"{METHODS_FIELD}[{index}].{field.name}"


# -- the posted form -> the JSON body ---------------------------------------------------------

_NUMBERS = re.compile(r"[\s,;]+")


def _value(field: FormField, text: str) -> Any:
    """The body value of an input's text; text that is not what the field takes goes as
    text, so the API says what is wrong with it."""
    if field.kind in {"text", "choice", "date"}:
        return text
    if field.kind == "bool":
        return {"yes": True, "true": True, "no": False, "false": False}.get(text.lower(), text)
    try:
        value = json.loads(text)
    except ValueError:
        if field.kind == "json":
            try:
                return [float(x) for x in _NUMBERS.split(text) if x]
            except ValueError:
                return text
        return text
    if field.kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _put(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        body = body.setdefault(key, {})
    body[path[-1]] = value


def method_count(form: Mapping[str, str]) -> int:
    """How many method blocks the form holds."""
    try:
        return max(1, min(int(form.get("methods", "1")), 20))
    except ValueError:
        return 1


def build_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The ``POST /v1/valuations`` body of a posted form (empty inputs left out)."""
    body: dict[str, Any] = {}
    for field in request_fields():
        text = form.get(field.name, "").strip()
        if text:
            _put(body, field.path, _value(field, text))
    forms = method_forms()
    methods = []
    discriminator, _ = _method_models()
    for index in range(method_count(form)):
        method = form.get(f"m{index}.method", "")
        entry: dict[str, Any] = {discriminator: method}
        for field in forms[method].fields if method in forms else ():
            text = form.get(input_name(index, method, field), "").strip()
            if text:
                _put(entry, field.path, _value(field, text))
        methods.append(entry)
    body[METHODS_FIELD] = methods
    return body


# -- a body -> the form's texts (the example, or a stored request) -----------------------------


def _get(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(body, dict) or key not in body:
            return None
        body = body[key]
    return body


def _text(field: FormField, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def form_values(body: Mapping[str, Any]) -> dict[str, str]:
    """The form's input texts that show ``body`` (``methods`` holds the block count)."""
    values = {
        field.name: _text(field, _get(body, field.path))
        for field in request_fields()
        if _get(body, field.path) is not None
    }
    forms = method_forms()
    discriminator, _ = _method_models()
    methods = list(body.get(METHODS_FIELD) or [])
    for index, entry in enumerate(methods):
        method = str(entry.get(discriminator, ""))
        values[f"m{index}.method"] = method
        for field in forms[method].fields if method in forms else ():
            found = _get(entry, field.path)
            if found is not None:
                values[input_name(index, method, field)] = _text(field, found)
    values["methods"] = str(max(1, len(methods)))
    return values


def drop_method(values: Mapping[str, str], index: int) -> dict[str, str]:
    """The form's texts without method block ``index`` (later blocks move up)."""
    kept: dict[str, str] = {}
    for name, text in values.items():
        match = re.fullmatch(r"m(\d+)\.(.*)", name)
        if not match:
            kept[name] = text
            continue
        at = int(match.group(1))
        if at != index:
            kept[f"m{at - (at > index)}.{match.group(2)}"] = text
    kept["methods"] = str(max(1, method_count(values) - 1))
    return kept


# -- the API's messages beside the inputs ------------------------------------------------------


def _within(field: str, name: str) -> bool:
    """Whether the API's ``field`` is ``name`` or lies inside it."""
    return field == name or field.startswith((name + ".", name + "["))


def field_messages(
    errors: Mapping[str, str], values: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The API's problem ``errors`` (field -> message) placed beside the inputs.

    Returns
    -------
    beside : dict
        Input name -> ``"field: message"`` for each error inside an input's field (the
        deepest input holding it).
    rest : dict
        Field -> message of the errors no input holds (shown above the form).
    """
    targets: list[tuple[str, str]] = [(f.name, f.name) for f in request_fields()]
    forms = method_forms()
    for index in range(method_count(values)):
        method = values.get(f"m{index}.method", "")
        targets.append((f"{METHODS_FIELD}[{index}]", f"m{index}.method"))
        for field in forms[method].fields if method in forms else ():
            targets.append((api_name(index, field), input_name(index, method, field)))
    beside: dict[str, str] = {}
    rest: dict[str, str] = {}
    for path, message in errors.items():
        holders = [t for t in targets if _within(path, t[0])]
        if not holders:
            rest[path] = message
            continue
        _, name = max(holders, key=lambda t: len(t[0]))
        text = f"{path}: {message}"
        beside[name] = f"{beside[name]}; {text}" if name in beside else text
    return beside, rest


def request_groups() -> list[tuple[str, list[FormField]]]:
    """The request's inputs by the part of the body they belong to: the top-level fields as
    ``valuation``, each nested model (``asset``, ``simulation``) as its own group."""
    groups: dict[str, list[FormField]] = {}
    for field in request_fields():
        group = field.path[0] if len(field.path) > 1 else "valuation"
        groups.setdefault(group, []).append(field)
    return list(groups.items())
