"""Secrets in connector configs: sealed for storage, resolved for use, redacted for display, scrubbed from errors."""

from __future__ import annotations

import logging

import pytest

from app.connectors.base import ConfigError
from app.connectors.schema import coerce, validate
from app.connectors.secrets import MASK, Secret, new_key, redact, scrub, seal, unseal

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["user", "password"],
          "properties": {"user": {"type": "string"}, "password": {"type": "string", "format": "password"},
                         "port": {"type": "integer", "default": 5432}, "tls": {"type": "boolean"}}}


def test_encrypted_with_the_key_and_only_with_it(monkeypatch):
    monkeypatch.setenv("ABI_SECRET_KEY", new_key())
    stored = seal(SCHEMA, {"user": "u", "password": "hunter2-long"})
    assert set(stored["password"]) == {"$enc"} and "hunter2" not in str(stored)
    assert unseal(SCHEMA, stored)["password"].reveal() == "hunter2-long"
    assert redact(SCHEMA, stored)["password"] == MASK
    monkeypatch.setenv("ABI_SECRET_KEY", new_key())
    with pytest.raises(ConfigError) as err:
        unseal(SCHEMA, stored)
    assert err.value.field == "password" and "cannot be decrypted" in str(err.value)
    monkeypatch.delenv("ABI_SECRET_KEY")
    with pytest.raises(ConfigError, match="set ABI_SECRET_KEY"):
        unseal(SCHEMA, stored)


def test_without_a_key_only_environment_references_are_accepted(monkeypatch):
    monkeypatch.delenv("ABI_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError) as err:
        seal(SCHEMA, {"user": "u", "password": "clear-text"})
    assert err.value.field == "password" and "env:VARIABLE" in str(err.value)
    stored = seal(SCHEMA, {"user": "u", "password": "env:DB_PASSWORD"})
    assert stored["password"] == {"$env": "DB_PASSWORD"}
    assert redact(SCHEMA, stored)["password"] == "env:DB_PASSWORD"
    with pytest.raises(ConfigError, match="DB_PASSWORD is not set"):
        unseal(SCHEMA, stored)
    monkeypatch.setenv("DB_PASSWORD", "from-the-environment")
    assert unseal(SCHEMA, stored)["password"].reveal() == "from-the-environment"
    with pytest.raises(ConfigError, match="ABI's own settings"):
        seal(SCHEMA, {"user": "u", "password": "env:ABI_SECRET_KEY"})


def test_a_secret_does_not_print_itself(caplog):
    secret = Secret("do-not-print-me")
    config = {"user": "u", "password": secret}
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("abi.test").debug("config %s %r", config, secret)
    assert "do-not-print-me" not in caplog.text and f"{secret}" == MASK
    assert scrub("login failed for do-not-print-me@host", config) == f"login failed for {MASK}@host"


def test_validation_names_fields_and_fills_defaults():
    assert validate(SCHEMA, {"user": "u", "password": "env:X"})["port"] == 5432
    assert validate(SCHEMA, {"user": "u", "password": {"$enc": "token"}})["password"] == {"$enc": "token"}
    cases = (({"password": "x"}, "user"), ({"user": "u", "password": "x", "port": "many"}, "port"),
             ({"user": "u", "password": "x", "colour": 1}, "colour"), ({"user": 1, "password": "x"}, "user"))
    for config, field in cases:
        with pytest.raises(ConfigError) as err:
            validate(SCHEMA, config)
        assert err.value.field == field
    with pytest.raises(ConfigError) as err:
        validate(SCHEMA, {"user": "u", "password": 12345})
    assert "12345" not in str(err.value)  # a bad secret is not echoed back
    assert coerce(SCHEMA, "port", "5433") == 5433 and coerce(SCHEMA, "tls", "false") is False
    with pytest.raises(ConfigError, match="expects integer"):
        coerce(SCHEMA, "port", "lots")


def test_a_secret_with_a_line_end_is_trimmed_and_one_with_a_control_character_inside_refused(monkeypatch):
    """A ``secrets.env`` saved with CRLF gives ``key\\r``: sent in a header, the HTTP library refuses it and prints
    it back, escaped, in its error."""
    monkeypatch.setenv("DB_PASSWORD", "  hunter2-long\r\n")
    stored = seal(SCHEMA, {"user": "u", "password": "env:DB_PASSWORD"})
    assert unseal(SCHEMA, stored)["password"].reveal() == "hunter2-long"
    with pytest.raises(ConfigError, match="is empty"):
        unseal(SCHEMA, {"user": "u", "password": "  "})
    monkeypatch.setenv("DB_PASSWORD", "hunter2\r\nlong")
    with pytest.raises(ConfigError) as err:
        unseal(SCHEMA, stored)
    assert err.value.field == "password" and "control character" in str(err.value) and "hunter" not in str(err.value)


def test_errors_are_scrubbed_of_a_secret_as_a_repr_json_or_url_writes_it():
    config = {"password": Secret('p"ss\\word/+1')}
    for text in ("'bearer p\"ss\\\\word/+1'", '{"k": "p\\"ss\\\\word/+1"}', "https://x/?k=p%22ss%5Cword%2F%2B1"):
        assert "ss" not in scrub(text, config) and MASK in scrub(text, config)


def test_errors_are_scrubbed_of_credentials_no_config_holds():
    """A library's message quoting a SAS link the API gave (``requests``' InvalidSchema, InvalidURL), a token."""
    text = ("unexpected InvalidSchema: No connection adapters were found for "
            "'htp://acct.blob.core.windows.net/r/part0.csv?sv=2020-05-31&sr=b&sig=c2VjcmV0LXNpZw%3D%3D'")
    scrubbed = scrub(text, {})
    assert "c2VjcmV0LXNpZw" not in scrubbed and "acct.blob.core.windows.net/r/part0.csv?sv=2020-05-31" in scrubbed
    assert "tok3n-of-the-gateway" not in scrub("401 (token Bearer tok3n-of-the-gateway refused)", {})
