"""Numbers as a spreadsheet writes them: decimal commas, thousands separators, currency formats; told apart in a
file's sample rows (``conventions.sniff``) and rewritten to the dot decimals the mappings parse (``number_sql``).

``1,300`` alone decides nothing (thousands, or 1.3 with three decimals): the file's other numbers do, else quantity ×
price = cost under one reading, else a currency without minor units (thousands), else a ``;``-separated file (a
decimal-comma locale's); with no evidence either way it reads as thousands (a comma-separated file can only hold it
quoted, as a spreadsheet writes thousands).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.conventions import Conventions

DECIMAL_COMMA = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+([eE][+-]?\d+)?")
DECIMAL_DOT = re.compile(r"[+-]?\d*\.\d+([eE][+-]?\d+)?")
THOUSANDS_COMMA = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
"""``1,234.5``: a spreadsheet that saved numbers as formatted, with thousands separators (dot decimals)."""
THOUSANDS_SQL = "^[+-]?[0-9]{1,3}(,[0-9]{3})+(\\\\.[0-9]+)?$"
AMBIGUOUS_COMMA = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}")
"""``1,300``: a thousands separator or a decimal comma before three decimals; by itself it decides neither."""
DOTTED_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+")
"""``24.000``: a decimal point before three decimals, or (Excel's ``#.##0`` in a decimal-comma locale) 24000: the
file's other numbers decide, so it votes for neither."""
DOTTED_SQL = "^[+-]?[1-9][0-9]{0,2}(\\\\.[0-9]{3})+$"
WHOLE_CURRENCIES = frozenset(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                              "VND", "VUV", "XAF", "XOF", "XPF"))
"""ISO 4217 currencies without minor units: a bill in one writes whole amounts, ``1,300`` with thousands."""
PRODUCT_COLUMNS = {
    "azure-cost": (("Quantity", "EffectivePrice", "CostInBillingCurrency"),
                   ("Quantity", "UnitPrice", "CostInBillingCurrency"),
                   ("Quantity", "PayGPrice", "PaygCostInBillingCurrency")),
    "focus": (("PricingQuantity", "ListUnitPrice", "ListCost"),
              ("PricingQuantity", "ContractedUnitPrice", "ContractedCost"))}
"""(quantity, price, cost): where quantity × price = cost under one reading of ``1,300`` and not the other."""
CURRENCY_COLUMN = {"azure-cost": "BillingCurrencyCode", "azure-focus": "BillingCurrency", "focus": "BillingCurrency"}
SPACES = (" ", "\u00a0", "\u202f", "\u2009", "'", "\u2019")
"""Thousands separators other than the decimal mark's partner: a space, no-break or narrow no-break space (fr-FR,
nb-NO, sv-SE, cs-CZ), a thin space, an apostrophe (de-CH ``1'234.56``, ``1’234.56``)."""
THOUSANDS_SPACED = re.compile(rf"[+-]?\d{{1,3}}([{''.join(SPACES)}]\d{{3}})+([.,]\d+)?")
_SPACE_SQL = "(?:" + "|".join(s.replace("'", "\\'") for s in SPACES) + ")"
SPACED_SQL = f"^[+-]?[0-9]{{1,3}}({_SPACE_SQL}[0-9]{{3}})+([.,][0-9]+)?$"
_SYMBOL = "[$€£¥₹₩₽₺₪₫₱₴₦]"
_DIGITS = f"[\\d.,{''.join(SPACES)}]*\\d"
"""An amount's digits with its decimal mark and thousands separators (``1 234,50``: ``SPACES``)."""
_GAP = "[\\s\u00a0\u202f\u2009]*"
"""Spaces around a symbol or sign, no-break ones too (RE2's ``\\s`` is ASCII's alone, Python's is not)."""
_MINUS = "\u2212"
"""The minus sign (U+2212), which ICU-based tools write for negatives in some locales."""
MONEY_FORMATS = ((rf"{_GAP}{_MINUS}{_GAP}{_SYMBOL}?{_GAP}({_DIGITS}){_GAP}{_SYMBOL}?{_GAP}", r"-\1"),
                 (rf"{_GAP}\({_GAP}{_SYMBOL}?{_GAP}({_DIGITS}){_GAP}{_SYMBOL}?{_GAP}\){_GAP}", r"-\1"),
                 (rf"{_GAP}([+-]?){_GAP}{_SYMBOL}{_GAP}([+-]?{_DIGITS}){_GAP}", r"\1\2"),
                 (rf"{_GAP}([+-]?{_DIGITS}){_GAP}{_SYMBOL}{_GAP}", r"\1"),
                 (rf"{_GAP}(?:{_SYMBOL}{_GAP}-|-{_GAP}{_SYMBOL}){_GAP}", "0"))
"""(pattern, replacement): a spreadsheet's currency and accounting formats (the FOCUS spec's own example files write
money so): ``($5.00)``, ``(5.00)`` or ``(5,00 €)`` is negative; ``$10,100.00 ``, ``-$5.00``, ``€1.234,50``,
``1 234,50 €`` (fr-FR, de-DE: the symbol after) lose the symbol; ``$-`` or ``- €`` is the accounting format's zero;
``−1,5`` (U+2212, as ICU-based tools write sv-SE, nb-NO, fi-FI negatives) is negative.
Each pattern is read by Python and by the engine (RE2) alike."""
_MONEY_RE = tuple((re.compile(pattern), replacement) for pattern, replacement in MONEY_FORMATS)


@dataclass(frozen=True)
class Layout:
    """What else tells ``1,300`` (thousands) from ``1,300`` (1.3) in a sample: the file's ``delimiter`` (``;`` is
    a decimal-comma locale's), its billing currency's position, and (quantity, price, cost) positions."""

    delimiter: str = ","
    currency: int | None = None
    products: tuple[tuple[int, int, int], ...] = ()


def file_layout(source: str, columns: dict[str, int], text: set[int], delimiter: str) -> Layout:
    """The ``Layout`` of a file of format ``source`` whose canonical ``columns`` (name → position) in ``text``
    (positions of text columns) can be sampled."""
    at = {name: i for name, i in columns.items() if i in text}
    products = PRODUCT_COLUMNS["focus" if source == "azure-focus" else source]
    return Layout(delimiter, at.get(CURRENCY_COLUMN[source]),
                  tuple(tuple(at[n] for n in names) for names in products if all(n in at for n in names)))


def number_votes(rows: list[list[str]], numbers: list[int]) -> dict[str, int]:
    """How many number cells show each convention: a decimal ``comma`` or ``dot``, ``thousands`` commas
    (``1,234.5``, ``1,234,567``), an ``ambiguous`` comma (``1,300``), a ``money`` format, ``spaced`` thousands."""
    votes = dict.fromkeys(("comma", "dot", "thousands", "ambiguous", "money", "spaced"), 0)
    for row in rows:
        for i in numbers:
            cell = row[i].strip() if i < len(row) else ""
            if money := next((m.expand(r) for p, r in _MONEY_RE if (m := p.fullmatch(cell))), None):
                votes["money"], cell = votes["money"] + 1, money
            if THOUSANDS_SPACED.fullmatch(cell):  # ``1 234,56``: the digits and the decimal mark tell the rest
                votes["spaced"], cell = votes["spaced"] + 1, re.sub(f"[{''.join(SPACES)}]", "", cell)
            if AMBIGUOUS_COMMA.fullmatch(cell):
                votes["ambiguous"] += 1
                continue
            if DOTTED_THOUSANDS.fullmatch(cell):
                continue
            votes["comma"] += bool(DECIMAL_COMMA.fullmatch(cell))
            votes["dot"] += bool(DECIMAL_DOT.fullmatch(cell))
            votes["thousands"] += bool(THOUSANDS_COMMA.fullmatch(cell)) and ("." in cell or cell.count(",") > 1)
    return votes


def decimal_comma(votes: dict[str, int], rows: list[list[str]], layout: Layout) -> bool:
    """Numbers are written with a decimal comma: a comma before 1, 2 or 4+ digits or after dotted thousands (and
    no decimal dot or comma thousands); where only ``1,300`` shows, quantity × price = cost under one reading, else
    a currency without minor units (thousands), else a ``;``-separated file (a decimal-comma locale's)."""
    if votes["comma"] or votes["dot"] or votes["thousands"] or not votes["ambiguous"]:
        return votes["comma"] > 0 and votes["dot"] == 0 and votes["thousands"] == 0
    if products := _product_votes(rows, layout.products):
        return products < 0
    currencies = {row[layout.currency].strip().upper() for row in rows
                  if layout.currency is not None and layout.currency < len(row) and row[layout.currency].strip()}
    if currencies and currencies <= WHOLE_CURRENCIES:
        return False
    return layout.delimiter == ";"


def _product_votes(rows: list[list[str]], products: tuple[tuple[int, int, int], ...]) -> int:
    """Rows where quantity × price = cost with ``1,300`` read as thousands and not as 1.3, less the reverse."""
    score = 0
    for row in rows:
        for positions in products:
            cells = [row[i].strip() if i < len(row) else "" for i in positions]
            if any(AMBIGUOUS_COMMA.fullmatch(c) for c in cells):
                score += _product_holds(cells, False) - _product_holds(cells, True)
    return score


def _product_holds(cells: list[str], decimal_comma: bool) -> bool:
    """Quantity × price = cost (within 0.5 %) for ``cells`` read with a decimal comma or comma thousands."""
    try:
        quantity, price, cost = (float(c.replace(".", "").replace(",", ".") if decimal_comma else c.replace(",", ""))
                                 for c in cells)
    except ValueError:
        return False
    return abs(quantity * price - cost) <= 0.005 * abs(cost) + 1e-9


def number_sql(expr: str, conventions: Conventions) -> str:
    """SQL: number text ``expr`` as the dot-decimal text the mappings parse (where the sample shows no decimal
    comma, commas between groups of three digits are thousands in every row); text that is no number stays as
    written (its quarantine reason quotes the file)."""
    if conventions.money_format:
        expr = money_sql(expr)
    if conventions.thousands_spaced:
        expr = f"if(match({expr}, '{SPACED_SQL}'), replaceRegexpAll({expr}, '{_SPACE_SQL}', ''), {expr})"
    if conventions.decimal_comma:  # ``24.000`` without a comma is 24000 too (``#.##0``), ``0.5`` stays as written
        dotted = f"replaceOne(replaceAll({expr}, '.', ''), ',', '.')"
        whole = f"if(position({expr}, '.') > 0 AND match({expr}, '{DOTTED_SQL}'), replaceAll({expr}, '.', ''), {expr})"
        return f"if(position({expr}, ',') > 0 AND toDecimal128OrNull({dotted}, 18) IS NOT NULL, {dotted}, {whole})"
    # Thousands past the sampled rows too (``1,234.56`` in a file sampled as ``12.50``): a comma tested first, the
    # pattern only where one is (~1 ns a cell).
    return f"if(position({expr}, ',') > 0 AND match({expr}, '{THOUSANDS_SQL}'), replaceAll({expr}, ',', ''), {expr})"


def money_sql(expr: str) -> str:
    """SQL: ``expr`` written in a currency or accounting format (``MONEY_FORMATS``) as a plain number; other text as
    written."""
    branches = []
    for pattern, replacement in MONEY_FORMATS:
        sql = f"^{pattern}$".replace("\\", "\\\\").replace("'", "\\'")
        plain = replacement.replace("\\", "\\\\")
        branches.append(f"match({expr}, '{sql}'), replaceRegexpOne({expr}, '{sql}', '{plain}')")
    return f"multiIf({', '.join(branches)}, {expr})"
