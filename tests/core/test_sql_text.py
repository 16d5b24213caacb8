"""Checks on a query's text: every table function of the engine is known to stay inside the database or not."""

from __future__ import annotations

from app.core.sql_text import INSIDE_FUNCTIONS, OUTSIDE_FUNCTIONS, engine_reading, reaches_outside, statement


def test_every_table_function_of_the_engine_is_known_inside_or_outside(wh):
    engine = {r["name"] for r in wh.rows("SELECT name FROM system.table_functions")}
    assert engine - set(INSIDE_FUNCTIONS) - set(OUTSIDE_FUNCTIONS) == set()  # a new engine's function: classify it
    assert not set(INSIDE_FUNCTIONS) & set(OUTSIDE_FUNCTIONS)
    for name in sorted(engine & set(OUTSIDE_FUNCTIONS)):
        assert reaches_outside(f"SELECT * FROM `{name}`('x')") == name
        assert reaches_outside(engine_reading(wh, f"SELECT 1 AS a, $$'$$ AS b FROM {name}('x') -- '")) == name


def test_text_and_functions_of_the_same_name_stay_inside():
    assert reaches_outside("SELECT 'file(x)', domain('http://a.b/c'), filesystemAvailable() FROM numbers(3)") is None


def test_a_statement_ends_before_its_trailing_semicolons_and_comments():
    for query in ("SELECT 1;", " SELECT 1; -- done", "SELECT 1; /* x */", "SELECT 1 /* a */ ;; # b\n", "SELECT 1 -- x"):
        assert statement(query) == "SELECT 1", query
    assert statement("SELECT ';' AS a, `b;` -- c") == "SELECT ';' AS a, `b;`"
    assert statement("SELECT $$ -- $$; -- x") == "SELECT $$ -- $$"
    assert statement("SELECT 1; SELECT 2; -- x") == "SELECT 1; SELECT 2"  # refused as two statements
