"""The plugin contract, run against every plugin installed in the ``abi.plugins`` entry-point group."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from abitest import PROJECT
from connectortest import HARNESSES, resolved

from app.connectors import catalog
from app.connectors.base import ConfigError, ConnectionFailed, ExtractContext, RowBatch, SourcePlugin
from app.core.sources import SOURCES, open_source

INSTALLED = sorted(catalog.available())


def test_the_bundled_plugins_are_installed():
    assert {"azure-cost-details", "azure-exports", "s3-minio", "azure-ea", "focus-file"} <= set(INSTALLED)


@pytest.mark.parametrize("name", INSTALLED)
def test_metadata_is_complete(name):
    from jsonschema import Draft202012Validator

    plugin = catalog.get(name)
    info = plugin.info
    assert isinstance(plugin, SourcePlugin) and info.name == name
    assert re.fullmatch(r"\d+\.\d+\.\d+", info.version)
    assert info.description and info.author and info.category and info.tags
    assert isinstance(info.requirements, tuple)
    assert info.documentation_url.startswith("https://")
    Draft202012Validator.check_schema(info.config_schema)
    assert info.config_schema.get("additionalProperties") is False, "unknown settings must be refused"
    assert info.config_schema.get("examples"), "the schema documents at least one example config"
    for example in info.config_schema["examples"]:
        plugin.validate_config(example)
    assert info.retired == (name == "azure-ea")
    assert not info.retired or "retired" in info.retired_note.lower()


@pytest.mark.parametrize("name", INSTALLED)
def test_plugin_folder_is_documented(name):
    plugin = catalog.get(name)
    folder = Path(sys.modules[type(plugin).__module__].__file__).parent
    assert (folder / "README.md").read_text().startswith(f"# {name}")
    example = json.loads((folder / "example.config.json").read_text())
    plugin.validate_config(example)
    secrets = [k for k, v in plugin.info.config_schema["properties"].items() if v.get("format") == "password"]
    for field in secrets:  # examples refer to secrets, never hold them
        if field in example:
            assert example[field].startswith("env:")
            assert example[field][4:] in (folder / "example.secrets.env").read_text()


@pytest.mark.parametrize("name", INSTALLED)
def test_config_errors_name_the_field(name):
    plugin = catalog.get(name)
    schema = plugin.info.config_schema
    example = schema["examples"][0]
    for field in schema.get("required", []):
        broken = {k: v for k, v in example.items() if k != field}
        with pytest.raises(ConfigError) as err:
            plugin.validate_config(broken)
        assert err.value.field == field and field in str(err.value)
    with pytest.raises(ConfigError) as err:
        plugin.validate_config({**example, "no_such_setting": 1})
    assert err.value.field == "no_such_setting"
    typed = next(k for k, v in schema["properties"].items() if v.get("type") in ("string", "array", "boolean"))
    with pytest.raises(ConfigError) as err:
        plugin.validate_config({**example, typed: 12345})
    assert err.value.field == typed


@pytest.mark.parametrize("name", INSTALLED)
def test_get_schema_describes_the_output(name):
    out = catalog.get(name).get_schema()
    assert out["sources"] and set(out["sources"]) <= set(SOURCES)
    assert out["datasets"] and out["file_formats"]
    for source in out["sources"]:
        assert len(out["columns"][source]) >= 10


def test_discovery_is_lazy():
    code = (
        "import sys\n"
        "from app.connectors import catalog\n"
        "names = catalog.available()\n"
        "assert not any(m.startswith('plugins.') for m in sys.modules), 'listing imported a plugin'\n"
        "catalog.describe_all()\n"
        "assert 'plugins.azure_cost_details.plugin' in sys.modules\n"
        "heavy = [m for m in ('azure.identity', 'msal', 'boto3', 'psycopg') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print(len(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(INSTALLED)


@pytest.fixture
def harness(request, tmp_path):
    name = request.node.callspec.params["name"]
    assert name in HARNESSES, f"installed plugin {name} has no test harness in tests/connectortest.py"
    plugin = catalog.get(name)
    good, bad = HARNESSES[name](request, tmp_path)
    return plugin, resolved(plugin, good), resolved(plugin, bad)


@pytest.mark.parametrize("name", INSTALLED)
def test_connection_test_is_real(name, harness, waits):
    plugin, good, bad = harness
    assert isinstance(plugin.test_connection(good), str)
    with pytest.raises(ConnectionFailed) as err:
        plugin.test_connection(bad)
    assert len(str(err.value)) > 10


@pytest.mark.parametrize("name", INSTALLED)
def test_extract_streams_units_of_billing_data(name, harness, tmp_path, waits, today, months_ago):
    plugin, good, _ = harness
    units = list(plugin.extract(copy.deepcopy(good), months_ago(1), today, ExtractContext(tmp_path / "work")))
    assert units and len({u.key for u in units}) == len(units)
    declared = plugin.get_schema()
    for unit in units[:2]:
        parts = list(unit.parts)
        assert parts, f"unit {unit.key} has no parts"
        for part in parts:
            if isinstance(part, RowBatch):
                assert part.rows and set(part.columns) <= set(declared["columns"][unit.source])
            else:
                detected = open_source(part, unit.source, unit.dataset)
                assert detected.source in declared["sources"]
