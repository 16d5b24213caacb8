"""Runs SQL checks of FOCUS rules the way focus-validator does, inside the validator's own environment.

Not a test module: ``test_focus_validator.py`` runs it with ``.venv-validator/bin/python`` (the validator pins
numpy<2 and cannot share ABI's environment). Input (JSON on stdin): ``data`` (a Parquet file), ``criteria``
(applicability criteria), ``charge_class_fix`` (re-run the rules hit by the validator's null handling of
"ChargeClass is not Correction", see ``CHARGE_CLASS_BUG``) and ``extra`` ({rule id: SQL over ``focus_data``
returning (violations, message)}), ``out`` (where to write the result, JSON: {rule id: {"violations": n,
"message": text}}; stdout carries the validator's logging).
"""

import json
import sys

import duckdb
import polars as pl
from focus_validator.data_loaders.data_loader import DataLoader
from focus_validator.validator import Validator

CHARGE_CLASS_BUG = "(ChargeClass IS NOT NULL AND ChargeClass <> 'Correction')"
"""How focus-validator 2.2.1 compiles the condition 'ChargeClass is not "Correction"': never true, because a row
that is not a correction has a null ChargeClass (FOCUS_Spec issue #2681)."""
CHARGE_CLASS_FIX = "(ChargeClass IS NULL OR ChargeClass <> 'Correction')"


def main() -> None:
    request = json.load(sys.stdin)
    checks: dict[str, str] = {}
    if request.get("charge_class_fix"):
        validator = Validator(data_filename=None, output_destination=None, output_type="console",
                              rules_version=request.get("version", "1.2"), rules_block_remote_download=True,
                              applicability_criteria=request.get("criteria"), focus_dataset="CostAndUsage",
                              explain_mode=True)
        for rule_id, explained in validator.explain().items():
            sql = explained.get("sql") or ""
            if CHARGE_CLASS_BUG in sql:
                checks[rule_id] = sql.replace(CHARGE_CLASS_BUG, CHARGE_CLASS_FIX)
    checks.update(request.get("extra", {}))

    # The validator's own loader and types; decimals as doubles, because DuckDB overflows multiplying two
    # DECIMAL(38,18) values (ListUnitPrice * PricingQuantity) while the rules compare within a relative 1e-9.
    data = DataLoader(request["data"]).load()
    data = data.with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    con = duckdb.connect()
    con.register("focus_data", data)
    results = {}
    for rule_id, sql in sorted(checks.items()):
        violations, message = con.execute(sql).fetchone()
        results[rule_id] = {"violations": int(violations), "message": message}
    with open(request["out"], "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
