"""An OpenAPI 3.1 document of the registered consumption APIs, from their pydantic query and response models.

``moose dev`` writes its own OpenAPI file from the same models (infra map ``queryParams`` / ``responseSchema``);
this one is served by the loopback server at ``/openapi.json`` so BI tools can discover the APIs without Moose.
"""

from __future__ import annotations

from typing import Any

from moose_lib.dmv2 import get_apis
from pydantic import BaseModel


def openapi(title: str = "ABI consumption APIs", version: str = "1") -> dict[str, Any]:
    """The document: one ``GET /api/<name>`` per registered API."""
    schemas: dict[str, Any] = {}
    paths = {f"/api/{api.name}": {"get": _operation(api, schemas)} for api in get_apis().values()}
    return {"openapi": "3.1.0", "info": {"title": title, "version": version}, "paths": paths,
            "components": {"schemas": schemas}}


def _operation(api: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    response = api.get_response_schema()
    schemas.update(response.pop("$defs", {}))
    schemas[api.return_type().__name__] = response
    ok = {"application/json": {"schema": {"$ref": f"#/components/schemas/{api.return_type().__name__}"}},
          "text/csv": {"schema": {"type": "string", "description": "with format=csv"}}}
    error = {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}},
                                             "required": ["error"]}}}
    return {
        "operationId": api.name,
        "summary": (api.metadata or {}).get("description", api.name),
        "parameters": _parameters(api.model_type),
        "responses": {"200": {"description": "OK", "content": ok},
                      "400": {"description": "A parameter is invalid (the message names it)", "content": error},
                      "500": {"description": "The server failed (details in its log)", "content": error}},
    }


def _parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    out = []
    for name, prop in schema["properties"].items():
        prop = _not_null(dict(prop))
        description = prop.pop("description", "")
        prop.pop("title", None)
        param = {"name": name, "in": "query", "required": name in schema.get("required", []),
                 "description": description, "schema": prop}
        if prop.get("type") == "array":
            param.update(style="form", explode=True)
        out.append(param)
    return out


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``Optional[X]`` with a default is documented as X (a query string cannot send null): no null default."""
    branches = [b for b in prop.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1 and len(prop["anyOf"]) == 2:
        prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **branches[0]}
    if "default" in prop and prop["default"] is None:
        del prop["default"]
    return prop
