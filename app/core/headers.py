"""Billing file headers: how a header name is spelled for matching, which source format a header is, and which
file column each canonical column is (the tables of accepted spellings are in ``formats``)."""

from __future__ import annotations

import re

from app.core import formats

TRANSLATED = re.compile(r"\(([^()]+)\)\s*$")


def spelling(name: str) -> str:
    """A header name as matched: lower-case, without spaces or hyphens (``Meter Sub-Category`` → metersubcategory);
    a Turkish dotted or dotless I is an i (``BİLLİNGACCOUNTİD``, upper-cased in a Turkish locale, is
    billingaccountid: ``'İ'.lower()`` is ``i`` and a combining dot)."""
    return re.sub(r"[\s\-]+", "", name.lower().replace("\u0307", "").replace("ı", "i"))


def header_keys(name: str) -> tuple[str, ...]:
    """A header name as matched: its ``spelling``, and for a translated header those of the name in brackets and
    of the name before them (``Ressourcenstandort (ResourceLocation)`` → resourcelocation, as Azure writes
    localized files; ``ResourceLocation (Ressourcenstandort)`` too)."""
    bracketed = TRANSLATED.search(name)
    if not bracketed:
        return (spelling(name),)
    return spelling(name), spelling(bracketed.group(1)), spelling(name[:bracketed.start()])


def detect_source(header: list[str]) -> str | None:
    """The source format a header belongs to, or None (ABI's own export: ``focus``)."""
    names = {key for h in header for key in header_keys(h)}
    if len(names & formats.FOCUS_MARKERS) >= 3:
        microsoft = names & formats.AZURE_FOCUS_MARKERS and not formats.ABI_EXPORT_MARKERS <= names
        return "azure-focus" if microsoft else "focus"
    if all(names & group for group in formats.AZURE_COST_MARKERS) and not formats.is_azure_aggregate(names):
        return "azure-cost"
    return None


def named_columns(header: list[str]) -> list[str]:
    """The header with each blank name as ``column_<n>``, its 1-based position (``_`` added while the file has a
    column of that name): its values are kept under that name."""
    taken, names = set(header), []
    for i, name in enumerate(header):
        if not name.strip():
            name = f"column_{i + 1}"
            while name in taken:
                name += "_"
            taken.add(name)
        names.append(name)
    return names


def match_columns(header: list[str], canonical: dict[str, tuple[str, ...]]) -> tuple[dict[str, int], dict[str, int]]:
    """Map header positions to canonical names (first accepted spelling wins); the rest are extras, by name
    (``named_columns``: a blank one's values are kept too; a trailing comma's empty values are no value)."""
    keys = [header_keys(h) for h in header]
    matched: dict[str, int] = {}
    for name, accepted in canonical.items():
        position = next((i for candidate in accepted for i, k in enumerate(keys)
                         if candidate in k and i not in matched.values()), None)
        if position is not None:
            matched[name] = position
    used, names = set(matched.values()), named_columns(header)
    extras = {names[i]: i for i in range(len(header)) if i not in used}
    return matched, extras


def given_columns(given: dict[str, str], canonical: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """``--set`` values keyed by the canonical column each name spells (``BillingCurrency`` → ``BillingCurrencyCode``
    in an Azure cost file); ``KeyError`` names one that is no column of the format."""
    resolved = {}
    for name, value in given.items():
        keys = {spelling(name), spelling(name).replace("_", "")}  # billing_currency too
        column = next((c for c, accepted in canonical.items() if keys & {*accepted, c.lower()}), None)
        if column is None:
            raise KeyError(name)
        resolved[column] = value
    return resolved


def unknown_header(header: list[str]) -> str:
    """Why a header is refused: the other billing dataset it belongs to, else the columns it has."""
    names = {key for h in header for key in header_keys(h)}
    native = next((name for markers, name in formats.NATIVE_FORMATS if markers <= names), None)
    if native:
        return f"{native}; ABI reads Azure cost exports and FOCUS files"
    other = next((name for markers, name in formats.OTHER_DATASETS if markers <= names), None)
    if other:
        return (f"{other}, not cost and usage data: ABI loads cost and usage rows (Azure cost exports and Cost "
                f"Details files, FocusCost exports, FOCUS Cost and Usage files)")
    if formats.is_azure_aggregate(names):
        return ("an Azure Cost Management aggregate (a cost analysis download or Query API result: costs summed by "
                "day or group, no quantity), not cost details: loaded beside them it would count their costs again; "
                "load the actual or amortized cost details export instead")
    return ("unknown header: not an Azure cost export, FocusCost export or FOCUS file "
            f"(columns: {', '.join(header[:8])}{', …' if len(header) > 8 else ''})")
