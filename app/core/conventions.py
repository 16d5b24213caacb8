"""Conventions of a billing file: numbers and dates (read from a CSV file's first rows), and enumeration spellings.

A file re-saved by a spreadsheet in another locale writes ``0,5`` for 0.5 and ``01.10.2026`` or ``31/10/2026`` for
dates. ABI reads such a file's convention from its first rows (the billing period's end date, day 28–31, tells the
order of day and month in nearly every row) and the relation rewrites those cells to the dot decimal and ISO dates
the mappings parse: a file's locale never changes its numbers or silently swaps days and months. Files in the
formats' own conventions (Azure's ``MM/DD/YYYY``, ISO dates, dot decimals) are read as they are, at next to no
cost; so are thousands separators in a dot-decimal file beyond its first rows (``1,234.56``).

FOCUS files spell a closed-list value in any case or separator (``usage``, ``USAGE``, ``OneTime``) or in an older
version's word (FOCUS 1.0-preview ``On-Demand``): each is read as the FOCUS 1.2 value it means; anything else
stays as written and is quarantined as not an allowed value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

from app.core import numbers as number_text
from app.core.numbers import Layout
from app.core.warehouse import quote
from app.models.rules import ALLOWED_VALUES, CURRENCY_COLUMNS, ENUMERATION_ALIASES, SERVICE_SUBCATEGORIES

SAMPLE_ROWS = 2_000
AZURE_NUMBER_COLUMNS = (
    "Quantity", "EffectivePrice", "CostInBillingCurrency", "UnitPrice", "PayGPrice", "CostInPricingCurrency",
    "ExchangeRatePricingToBilling", "PaygCostInBillingCurrency", "CostInUsd", "PaygCostInUsd")
AZURE_DATE_COLUMNS = ("Date", "BillingPeriodStartDate", "BillingPeriodEndDate", "ServicePeriodStartDate",
                      "ServicePeriodEndDate", "ExchangeRateDate")
NATIVE_DAY_FIRST = {"azure-cost": False, "azure-focus": True, "focus": True}
"""How each format's mapping reads an ambiguous date: Azure exports are ``MM/DD/YYYY``; the FOCUS mapping reads
ClickHouse's best effort (day first)."""

OFFSET_SQL = "(:[0-9]{2}(?:\\\\.[0-9]+)?)\\\\s*(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)$"
"""A UTC offset after a time (``00:00:00+02:00``): an Azure date is the calendar day written, never moved by it
(dropped only in a file whose sampled dates show one: testing every cell cost ~1.5 CPU-s per million rows)."""
UTC_OFFSET = re.compile(r":\d{2}(\.\d+)?\s*[+-]\d{2}(:?\d{2})?\s*$")
SHORT_DATE = re.compile(r"\s*(\d{1,2})([./-])(\d{1,2})\2(\d{2,4})\b")
SPACED_DOTS = re.compile(r"\s*(\d{1,4})\.\s+(\d{1,2})\.\s+(\d{1,4})\.?")
"""Windows short dates of hu-HU (``2023. 09. 21.``), cs-CZ and sk-SK (``21. 9. 2023``): read without the spaces (the
year first, or a dot: either way the order is told)."""
SPACED_DOTS_SQL = "^\\\\s*([0-9]{1,4})\\\\.\\\\s*([0-9]{1,2})\\\\.\\\\s*([0-9]{1,4})\\\\.?"
PERIOD_COLUMNS = {"azure-cost": ("BillingPeriodStartDate", "BillingPeriodEndDate", "Date"),
                  "azure-focus": ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart"),
                  "focus": ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart")}
"""Billing period start and end, and the charge's start: when no short date shows the order of day and month (a day
over 12), the order under which billing periods start on a month's first day and hold their charges is the one."""
_MONTH = r"[A-Za-z]{3,9}\.?"
NAMED_MONTH_DATE = re.compile(rf"\s*(\d{{1,2}}\.?[-\s./]+{_MONTH}[-\s./,]+\d{{2,4}}"
                              rf"|{_MONTH}[-\s./]+\d{{1,2}}(st|nd|rd|th)?,?[-\s./]+\d{{2,4}}"
                              rf"|\d{{4}}[-\s./]+{_MONTH}[-\s./]+\d{{1,2}})\b")
"""``01-Oct-2026``, ``Oct 1, 2026``, ``2026-Oct-01`` (a spreadsheet's date formats): a month name is unambiguous, so
such a date says nothing of the order of day and month in the file's numeric dates."""
_MONTHS_SQL = ("(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|january|february|march|april|june|july|august|"
               "september|october|november|december)")
_PLAIN_NAMED_SQL = (f"(?i)^\\\\s*([0-9]{{1,2}}[-./]{_MONTHS_SQL}[-./]([0-9]{{2}}|[0-9]{{4}})"
                    f"|[0-9]{{1,2}} {_MONTHS_SQL} [0-9]{{4}}|{_MONTHS_SQL} [0-9]{{1,2}},? [0-9]{{4}})($|[\\\\sT])")
"""The forms the engine's best-effort parser reads right as they are (``04-Oct-24``, ``4 Oct 2024``, ``Oct 4, 2024``):
no rewrite (5 times cheaper). It misreads others (``Oct-04-2024`` as 2 October 00:24, ``04 Oct 24`` as 5 October)."""
_SEP, _NAME = "[-\\\\s./]+", "([A-Za-z]{3})[A-Za-z]{0,6}\\\\.?"
_DAY_MONTH_YEAR = (  # each order rewritten ``D Mon YYYY`` (``Sept`` as ``Sep``, a 2-digit year in this century)
    (f"^\\\\s*{_NAME}{_SEP}([0-9]{{1,2}})(?:st|nd|rd|th)?,?{_SEP}([0-9]{{2,4}})", "\\\\2 \\\\1 \\\\3"),
    (f"^\\\\s*([0-9]{{4}}){_SEP}{_NAME}{_SEP}([0-9]{{1,2}})", "\\\\3 \\\\2 \\\\1"),
    (f"^\\\\s*([0-9]{{1,2}})\\\\.?{_SEP}{_NAME}[-\\\\s./,]+([0-9]{{2,4}})", "\\\\1 \\\\2 \\\\3"),
    ("^([0-9]{1,2} [A-Za-z]{3}) ([0-9]{2})( |$)", "\\\\1 20\\\\2\\\\3"))


@dataclass(frozen=True)
class Conventions:
    """``decimal_comma``: numbers are written ``1234,5`` (or ``1.234,5``); ``thousands_comma``: dot decimals with
    thousands separators (``1,234.5``); ``day_first``: short dates are ``DD/MM/YYYY`` (True), ``MM/DD/YYYY``
    (False) or show no evidence either way (None); ``money_format``: amounts with a currency symbol (``$1.50``);
    ``named_month``: dates with a month name (``04-Oct-2026``, ``Oct 4, 2026``), read as such in any order;
    ``thousands_spaced``: thousands separated by a space or an apostrophe (``1 234,56``, ``1'234.56``);
    ``utc_offset``: dates with a UTC offset after their time (``2026-10-05T00:00:00+02:00``); ``spaced_dots``: dates
    with a space after each dot (``2023. 09. 21.``, ``21. 9. 2023``: ``SPACED_DOTS``)."""

    decimal_comma: bool = False
    day_first: bool | None = None
    thousands_comma: bool = False
    money_format: bool = False
    named_month: bool = False
    thousands_spaced: bool = False
    utc_offset: bool = False
    spaced_dots: bool = False


def sniff(rows: Iterable[list[str]], numbers: list[int], dates: list[int],
          periods: tuple[int | None, int | None, int | None] = (None, None, None),
          layout: Layout | None = None) -> Conventions:
    """The conventions the sample ``rows`` show in their ``numbers`` and ``dates`` columns (positions);
    ``periods``: the positions of the billing period's start and end and the charge's start (``PERIOD_COLUMNS``);
    ``layout``: what else tells thousands from decimal commas."""
    rows = list(rows)
    votes = number_text.number_votes(rows, numbers)
    day = month = named = offset = spaced = 0
    for row in rows:
        for i in dates:
            cell = row[i] if i < len(row) else ""
            offset += bool(UTC_OFFSET.search(cell))
            if SPACED_DOTS.match(cell):
                spaced, cell = spaced + 1, SPACED_DOTS.sub(r"\1.\2.\3", cell, count=1)
            if NAMED_MONTH_DATE.match(cell):  # unambiguous: no vote on the order of numeric dates
                named += 1
            elif match := SHORT_DATE.match(cell):
                first, separator, second = int(match[1]), match[2], int(match[3])
                day += separator == "." or first > 12 >= second
                month += separator != "." and second > 12 >= first
    if bool(day) != bool(month):
        day_first = day > 0
    else:  # conflicting evidence stays None; without any, the billing periods tell
        day_first = None if day else _order_of_periods(rows, periods)
    decimal_comma = number_text.decimal_comma(votes, rows, layout or Layout())
    return Conventions(decimal_comma=decimal_comma, day_first=day_first,
                       thousands_comma=votes["thousands"] > 0 or (votes["ambiguous"] > 0 and not decimal_comma),
                       money_format=votes["money"] > 0, named_month=named > 0, thousands_spaced=votes["spaced"] > 0,
                       utc_offset=offset > 0, spaced_dots=spaced > 0)


def _order_of_periods(rows: list[list[str]], periods: tuple[int | None, int | None, int | None]) -> bool | None:
    """Day first (True), month first (False) or no evidence (None): the order under which more rows have a billing
    period starting on a month's first day and holding the charge's start."""
    scores = {}
    for day_first in (True, False):
        score = 0
        for row in rows:
            start, end, charge = (_short_date(row[i], day_first) if i is not None and i < len(row) else None
                                  for i in periods)
            score += (start is not None and start.day == 1) + (None not in (start, end, charge)
                                                               and start <= charge <= end)
        scores[day_first] = score
    return None if scores[True] == scores[False] else scores[True] > scores[False]


def _short_date(cell: str, day_first: bool) -> date | None:
    """``cell``'s short date read in one order (``01.10.2026`` is always day first), or None."""
    match = SHORT_DATE.match(cell)
    if not match:
        return None
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    day, month = (first, second) if day_first or match[2] == "." else (second, first)
    try:
        return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        return None


@cache
def typed_columns(source: str) -> tuple[frozenset[str], frozenset[str]]:
    """The canonical number and date columns of ``source`` (FOCUS files: derived from the FOCUS table's types)."""
    if source == "azure-cost":
        return frozenset(AZURE_NUMBER_COLUMNS), frozenset(AZURE_DATE_COLUMNS)
    from app.core import schema
    from app.models.names import FOCUS_TABLE

    types = schema.columns(FOCUS_TABLE)
    return (frozenset(n for n, t in types if "Decimal" in t),
            frozenset(n for n, t in types if "DateTime" in t))


def normalized(source: str, conventions: Conventions, name: str, expr: str) -> str:
    """SQL for canonical column ``name`` (text ``expr``) in the format's own convention; unparseable text stays
    as written, so its quarantine reason quotes the file."""
    numbers, dates = typed_columns(source)
    if name in numbers and source != "azure-cost":  # a float column's NaN (Spark, pandas) is no value
        expr = f"if({expr} IN ('NaN', 'nan', '-nan', 'NAN'), NULL, {expr})"
    if name in numbers:
        return number_text.number_sql(expr, conventions)
    if name in dates and source == "azure-cost" and conventions.utc_offset:  # a calendar day, never moved
        expr = f"if(length({expr}) > 19, replaceRegexpOne({expr}, '{OFFSET_SQL}', '\\\\1'), {expr})"
    if name in dates and conventions.spaced_dots:
        expr = f"replaceRegexpOne({expr}, '{SPACED_DOTS_SQL}', '\\\\1.\\\\2.\\\\3')"
    if name in dates:  # a month name past the sampled rows too (a cheap test of each cell, ~0.05 µs)
        expr = named_month_sql(expr) if conventions.named_month else (
            f"if(match({expr}, '[A-Za-z]{{3}}'), {named_month_sql(expr)}, {upper_tz(expr)})")
    if name in dates and conventions.day_first not in (None, NATIVE_DAY_FIRST[source]):
        parse = "parseDateTimeBestEffortOrNull" if conventions.day_first else "parseDateTimeBestEffortUSOrNull"
        return f"ifNull(toString({parse}({expr})), {expr})"
    if source == "azure-cost":
        return expr
    if name in ALLOWED_VALUES or name == "ServiceSubcategory":
        keys, values = _spellings(name)
        return f"transform(lower({expr}), {keys}, {values}, {expr})"
    if name in CURRENCY_COLUMNS:  # ``usd`` is USD
        return f"if(match({expr}, '^\\\\s*[A-Za-z]{{3}}\\\\s*$'), upper(trimBoth({expr})), {expr})"
    return expr


def upper_tz(expr: str) -> str:
    """SQL: a date-time written with RFC 3339's lower-case ``t`` or ``z`` (``2026-01-01t00:00:00z``) in upper case,
    which the engine's parser reads; other text as written."""
    return f"if(position({expr}, 't') > 0 OR position({expr}, 'z') > 0, upper({expr}), {expr})"


def named_month_sql(expr: str) -> str:
    """SQL: the date-time a date with a month name in ``expr`` means (any order of day, month and year) as ISO text;
    other text as written (a month name alone, ``Oct``, too: the parser would read it as this year's 1 October)."""
    rewritten = expr
    for pattern, replacement in _DAY_MONTH_YEAR:
        rewritten = f"replaceRegexpOne({rewritten}, '{pattern}', '{replacement}')"
    return (f"multiIf(match({expr}, '{_PLAIN_NAMED_SQL}'), ifNull(toString(parseDateTimeBestEffortOrNull({expr})), "
            f"{expr}), match({expr}, '{'|'.join(p for p, _ in _DAY_MONTH_YEAR[:3])}'), "
            f"ifNull(toString(parseDateTimeBestEffortOrNull({rewritten})), {expr}), {expr})")


@cache
def _spellings(column: str) -> tuple[str, str]:
    """SQL arrays: the lower-case spellings of ``column``'s allowed values (and older words), and those values."""
    spellings = {}
    allowed = ALLOWED_VALUES.get(column) or tuple(dict.fromkeys(v for vs in SERVICE_SUBCATEGORIES.values() for v in vs))
    for value in allowed:
        lowered = value.lower()
        for spelling in (lowered, re.sub(r"[\s_-]+", "", lowered), lowered.replace("-", " ")):
            spellings[spelling] = value
    spellings.update(ENUMERATION_ALIASES.get(column, {}))
    return (f"[{', '.join(quote(k) for k in spellings)}]", f"[{', '.join(quote(v) for v in spellings.values())}]")
