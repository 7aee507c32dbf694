"""Request fields as Lasair's DRF serializers read them, and their OpenAPI description.

Input: a request — its query string (GET) or its body, form-encoded or JSON (POST; the
query string fills in what the body lacks). Output: a dict of typed values, or a 400
``{"field": ["message"]}`` with DRF's messages. A missing field takes its declared default
(as DRF does for form, query and JSON alike). Booleans take DRF's words (``true``, ``t``,
``yes``, ``on``, ``1``, … in any of its spellings). Side effects: none.

:func:`openapi` gives the route's parameters and request body for the OpenAPI document.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request

from lanner.serve.errors import ApiError, field_errors

Kind = Literal["float", "int", "str", "bool", "choice", "list"]
TRUE = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"}
FALSE = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0"}
REQUIRED = "This field is required."
_MISSING = object()


@dataclass(frozen=True)
class Field:
    """One field of a route: its kind, whether required, default and bounds."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    allow_blank: bool = False
    choices: tuple[str, ...] = ()
    #: Message when out of [minimum, maximum] (DRF's by default).
    range_message: str | None = None

    def parse(self, raw: Any) -> Any:
        """The typed value of ``raw``; raises ``ValueError(message)``."""
        if self.kind == "bool":
            return _boolean(raw)
        if self.kind == "float":
            value: Any = _number(raw, float, "A valid number is required.")
        elif self.kind == "int":
            value = _number(raw, int, "A valid integer is required.")
        elif self.kind == "list":
            if not isinstance(raw, list):
                raise ValueError(f'Expected a list of items but got type "{_type(raw)}".')
            return raw
        else:
            if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
                raise ValueError("Not a valid string.")
            value = str(raw).strip()
            if not value and not self.allow_blank:
                raise ValueError("This field may not be blank.")
            if self.max_length is not None and len(value) > self.max_length:
                raise ValueError(
                    f"Ensure this field has no more than {self.max_length} characters."
                )
            if self.kind == "choice" and value not in self.choices:
                raise ValueError(f'"{value}" is not a valid choice.')
            return value
        low, high = self.minimum, self.maximum
        if low is not None and value < low:
            raise ValueError(
                self.range_message or f"Ensure this value is greater than or equal to {low:g}."
            )
        if high is not None and value > high:
            raise ValueError(
                self.range_message or f"Ensure this value is less than or equal to {high:g}."
            )
        return value


def _type(raw: Any) -> str:
    return {dict: "dict", str: "str", int: "int", float: "float"}.get(type(raw), "unknown")


def _boolean(raw: Any) -> bool:
    if raw is True or raw is False:
        return bool(raw)
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = str(raw) if isinstance(raw, (str, int)) else None
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError("Must be a valid boolean.")


def _number(raw: Any, kind: type, message: str) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise ValueError(message)
    if kind is int:
        if isinstance(raw, float):
            if not raw.is_integer():
                raise ValueError(message)
            return int(raw)
        text = str(raw).strip()
        try:
            return int(text)
        except ValueError:
            try:  # DRF accepts "3.0"
                number = float(text)
            except ValueError:
                raise ValueError(message) from None
            if not number.is_integer():
                raise ValueError(message) from None
            return int(number)
    try:
        value = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
    except ValueError:
        raise ValueError(message) from None
    if not math.isfinite(value):
        raise ValueError(message)
    return value


async def request_data(request: Request) -> dict[str, Any]:
    """The request's fields: the body (form or JSON) over the query string."""
    data: dict[str, Any] = {k: v for k, v in request.query_params.items() if k != "token"}
    if request.method != "POST":
        return data
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        body = await request.body()
        if body.strip():
            try:
                parsed = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from None
            if not isinstance(parsed, dict):
                raise ApiError(
                    400,
                    {
                        "non_field_errors": [
                            f"Invalid data. Expected a dictionary, but got {_type(parsed)}."
                        ]
                    },
                )
            data.update(parsed)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        data.update({k: v for k, v in form.items() if isinstance(v, str)})
    return data


def validate(data: Mapping[str, Any], fields: Sequence[Field]) -> dict[str, Any]:
    """Typed values of ``fields`` from ``data``, or 400 with every field's errors."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for f in fields:
        raw = data.get(f.name, _MISSING)
        if raw is _MISSING:
            if f.required:
                errors[f.name] = [REQUIRED]
            else:
                values[f.name] = f.default
            continue
        if raw is None:
            errors[f.name] = ["This field may not be null."]
            continue
        try:
            values[f.name] = f.parse(raw)
        except ValueError as exc:
            errors[f.name] = [str(exc)]
    if errors:
        raise field_errors(errors)
    return values


async def fields_of(request: Request, fields: Sequence[Field]) -> dict[str, Any]:
    return validate(await request_data(request), fields)


#: Numbers written as text, as DRF's number fields accept them.
NUMBER_TEXT = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


def _schema(f: Field, *, text_form: bool) -> dict[str, Any]:
    """JSON Schema of a field, as the server accepts it: in a query string or form every
    value is text; in JSON, DRF also takes numbers for text fields, numeric text for number
    fields and 0/1 or its words for booleans."""
    words = sorted(TRUE | FALSE)
    if f.kind == "bool":
        schema: dict[str, Any] = (
            {"type": "string", "enum": words}
            if text_form
            else {"anyOf": [{"type": "boolean"}, {"enum": [0, 1, *words]}]}
        )
    elif f.kind in ("float", "int"):
        number: dict[str, Any] = {"type": "number" if f.kind == "float" else "integer"}
        if f.minimum is not None:
            number["minimum"] = f.minimum
        if f.maximum is not None:
            number["maximum"] = f.maximum
        text = {"type": "string", "pattern": NUMBER_TEXT}
        schema = text if text_form else {"anyOf": [number, text]}
    elif f.kind == "list":
        schema = {"type": "array", "items": {"type": "object"}}
    else:
        schema = {"type": "string"}
        if f.kind == "choice":
            schema["enum"] = list(f.choices)
        if f.max_length is not None:
            schema["maxLength"] = f.max_length
        if not f.allow_blank:
            schema["minLength"] = 1
            schema["pattern"] = r"\S"
        if not text_form and f.kind == "str":
            schema = {"anyOf": [schema, {"type": "number"}]}
    if f.default is not None:
        schema["default"] = f.default
    schema["description"] = f.description
    return schema


#: Query parameters a route does not name are ignored, as DRF does (``format=json``, and
#: ``token``, which authenticates): declared as a free-form object.
OTHER_PARAMETERS = {
    "name": "other",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "schema": {"type": "object", "additionalProperties": {"type": "string"}},
    "description": "Any other parameter (format=json, token=…) is accepted and ignored.",
}


def openapi(fields: Sequence[Field], *, get: bool, json_only: bool = False) -> dict[str, Any]:
    """The ``openapi_extra`` of a route taking ``fields`` (GET: query parameters; POST: a
    form or JSON body)."""
    if get:
        return {
            "parameters": [
                *(
                    {
                        "name": f.name,
                        "in": "query",
                        "required": f.required,
                        "schema": _schema(f, text_form=True),
                        "description": f.description,
                    }
                    for f in fields
                ),
                OTHER_PARAMETERS,
            ]
        }

    def body(text_form: bool) -> dict[str, Any]:
        return {
            "schema": {
                "type": "object",
                "properties": {f.name: _schema(f, text_form=text_form) for f in fields},
                "required": [f.name for f in fields if f.required],
            }
        }

    content = {"application/json": body(False)}
    if not json_only:
        content["application/x-www-form-urlencoded"] = body(True)
    return {"requestBody": {"required": True, "content": content}}
