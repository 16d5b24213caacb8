"""Secrets in connector configs: never stored in clear, never shown.

A ``"format": "password"`` field is stored either as a reference to an environment variable (given as
``env:NAME``; stored ``{"$env": "NAME"}``) or encrypted with the key in ``ABI_SECRET_KEY`` (Fernet: AES-128-CBC +
HMAC-SHA256; stored ``{"$enc": "<token>"}``). At use time values become :class:`Secret` objects, whose ``str`` and
``repr`` are masked, so a logged config shows nothing; plugins call ``reveal()`` where a library needs the value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from app.connectors.base import ConfigError
from app.connectors.schema import SECRET_REF, secret_fields
from app.core.redaction import redact_text

KEY_ENV = "ABI_SECRET_KEY"
MASK = "********"


class Secret:
    """A secret value that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def reveal(value: Any) -> Any:
    """The clear value of a Secret (other values unchanged)."""
    return value.reveal() if isinstance(value, Secret) else value


def new_key() -> str:
    """A fresh random key for ``ABI_SECRET_KEY``."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _fernet():
    from cryptography.fernet import Fernet

    key = os.environ.get(KEY_ENV, "")
    if not key:
        return None
    try:
        if len(base64.urlsafe_b64decode(key.encode())) == 32:
            return Fernet(key.encode())
    except (binascii.Error, ValueError):
        pass
    derived = hashlib.scrypt(key.encode(), salt=b"abi-connector-secrets", n=2**14, r=8, p=1, dklen=32)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(schema: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as stored: secret fields become env references or ciphertext."""
    out = dict(config)
    for name in secret_fields(schema):
        value = out.get(name)
        if value is None or (isinstance(value, Mapping) and set(value) == {"$enc"}):
            continue
        value = reveal(value)
        if isinstance(value, Mapping) and "$env" in value:
            value = f"env:{value['$env']}"
        if isinstance(value, str) and SECRET_REF.match(value):
            if value[4:].upper().startswith("ABI_"):
                raise ConfigError(name, "may not refer to ABI's own settings (ABI_* variables)")
            out[name] = {"$env": value[4:]}
            continue
        fernet = _fernet()
        if fernet is None:
            raise ConfigError(name, f"is a secret: give it as env:VARIABLE, or set {KEY_ENV} to store it encrypted")
        out[name] = {"$enc": fernet.encrypt(str(value).encode()).decode()}
    return out


def unseal(schema: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """The config for a plugin: secret fields as :class:`Secret` values."""
    out = dict(stored)
    for name in secret_fields(schema):
        value = out.get(name)
        if isinstance(value, Mapping) and "$env" in value:
            if not os.environ.get(value["$env"], "").strip():
                raise ConfigError(name, f"environment variable {value['$env']} is not set")
            out[name] = _clean(name, os.environ[value["$env"]])
        elif isinstance(value, Mapping) and "$enc" in value:
            out[name] = _clean(name, _decrypt(name, value["$enc"]))
        elif isinstance(value, str):
            out[name] = _clean(name, value)
    return out


def _clean(name: str, value: str) -> Secret:
    """The secret without the spaces and line ends around it (a ``secrets.env`` saved with CRLF gives ``key\\r``,
    which an HTTP library would print back in its error); one with a control character inside is refused."""
    value = value.strip()
    if not value:
        raise ConfigError(name, "is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(name, "holds a control character (a line break or tab) inside its value: set it again")
    return Secret(value)


def _decrypt(name: str, token: str) -> str:
    from cryptography.fernet import InvalidToken

    fernet = _fernet()
    if fernet is None:
        raise ConfigError(name, f"is stored encrypted: set {KEY_ENV} to the key it was stored with")
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ConfigError(name, f"cannot be decrypted with the current {KEY_ENV}") from exc


def redact(schema: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """The config for display: env references by name, everything else secret masked."""
    out = dict(stored)
    for name in secret_fields(schema):
        value = out.get(name)
        if isinstance(value, Mapping) and "$env" in value:
            out[name] = f"env:{value['$env']}"
        elif value is not None:
            out[name] = MASK
    for name, value in out.items():  # a credential a non-secret setting held when it was stored (a URL's password)
        if isinstance(value, str):
            out[name] = redact_text(value)
    return out


def scrub(text: str, config: Mapping[str, Any]) -> str:
    """``text`` with the clear value of every Secret in ``config`` masked (for error messages), also as a repr,
    JSON or a URL would write it, and any other credential it carries (``redact_text``: a SAS signature or a token
    a server quoted back)."""
    for value in config.values():
        if isinstance(value, Secret) and len(value.reveal()) >= 4:
            clear = value.reveal()
            for form in sorted({clear, repr(clear)[1:-1], json.dumps(clear)[1:-1], quote(clear, safe="")},
                               key=len, reverse=True):
                text = text.replace(form, MASK)
    return redact_text(text)
