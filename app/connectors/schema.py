"""Plugin configs against their JSON Schema: validation naming the field, defaults, ``--set`` value coercion."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from app.connectors.base import ConfigError

SECRET_REF = re.compile(r"^env:[A-Za-z_][A-Za-z0-9_]*$")


def secret_fields(schema: Mapping[str, Any]) -> list[str]:
    """Top-level properties declared ``"format": "password"``."""
    return [k for k, v in schema.get("properties", {}).items() if v.get("format") == "password"]


def validate(schema: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """Validated copy of ``config`` with defaults filled in; ConfigError names the first offending field."""
    from jsonschema import Draft202012Validator

    if not isinstance(config, Mapping):
        raise ConfigError("(root)", "the config must be a JSON object")
    merged = {k: v["default"] for k, v in schema.get("properties", {}).items() if "default" in v}
    merged.update({k: v for k, v in config.items() if v is not None})
    checked = dict(merged)
    for name in secret_fields(schema):
        value = checked.get(name)
        if hasattr(value, "reveal") or (isinstance(value, Mapping) and set(value) <= {"$env", "$enc"}):
            checked[name] = "<secret>"  # a Secret or a stored reference stands for a valid secret
    errors = sorted(Draft202012Validator(schema).iter_errors(checked), key=_error_order)
    if errors:
        raise ConfigError(_field_of(errors[0]), _message_of(errors[0]))
    _refuse_credentials(schema, merged)
    return merged


def _refuse_credentials(schema: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """A setting that is not a secret holds no URL carrying a credential (``http://user:password@host``, a SAS or
    presigned link): it would be stored in clear and shown; the value is not echoed."""
    from app.core.redaction import holds_credentials

    secrets = set(secret_fields(schema))
    for name, value in config.items():
        texts = value if isinstance(value, list) else [value]
        if name not in secrets and any(isinstance(t, str) and "://" in t and holds_credentials(t) for t in texts):
            raise ConfigError(name, "holds a URL with a credential in it (a password, a signature, a token): give "
                                    "credentials in the plugin's secret settings (env:VARIABLE), never in a URL")


def _error_order(error) -> tuple:
    return (len(error.absolute_path), error.validator != "required", str(list(error.absolute_path)))


def _field_of(error) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = re.match(r"^'([^']+)' is a required property", error.message)
        path.append(missing.group(1) if missing else "?")
    elif error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        path.append(extra[0] if extra else "?")
    return ".".join(path) or "(root)"


def _message_of(error) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        return "is not a known setting of this plugin"
    if error.validator == "enum":
        return f"must be one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "pattern":
        hint = error.schema.get("description", "")
        return f"has an invalid format{': ' + hint if hint else ''}"
    value = "<secret>" if error.schema.get("format") == "password" else repr(error.instance)[:80]
    return f"{value}: {error.message.split(' is ', 1)[-1] if ' is ' in error.message else error.message}"


def coerce(schema: Mapping[str, Any], key: str, text: str) -> Any:
    """A ``--set key=value`` string as the type the schema declares for ``key``."""
    spec = schema.get("properties", {}).get(key)
    if spec is None:
        raise ConfigError(key, "is not a known setting of this plugin")
    kind = spec.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if kind in ("array", "object"):
            return json.loads(text) if text.strip().startswith(("[", "{")) else [s for s in text.split(",") if s]
    except ValueError as exc:
        raise ConfigError(key, f"expects {kind}, got {text!r}") from exc
    return text
