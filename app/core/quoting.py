"""Where a CSV file's quoting breaks, told in its own rows when the engine refuses to read it.

The engine stops at a field that opens a quote and has text after the closing one (``"abc"def``: a tool that did
not double a quote inside a value, or an unquoted tab-separated dump whose Tags cells start with ``"``); its message
counts the lines of its own read. Python's reader, strict, finds the same place: the data row, the line, the field.
"""

from __future__ import annotations

import csv

from app.core.sources import SourceFile, open_text

SHOWN = 80
"""Characters of the damaged line quoted in the message."""


def quote_damage(sf: SourceFile) -> str | None:
    """The first place ``sf`` (a CSV file) breaks the quoting rules, as a message naming its data row, line and
    field; None when its quoting is sound (the engine failed for another reason) or it is no CSV file."""
    if sf.is_parquet:
        return None
    lines: list[str] = []
    with open_text(sf.readable, sf.encoding) as text:
        for _ in range(sf.header_line):
            text.readline()

        def tracked():
            for line in text:
                lines.append(line)
                yield line

        reader = csv.reader(tracked(), delimiter=sf.delimiter, strict=True)
        records = 0
        try:
            for _ in reader:
                records += 1
                lines.clear()
        except csv.Error as exc:
            return _message(sf, records, reader.line_num, lines, str(exc))
    return None


def _message(sf: SourceFile, records: int, line_num: int, lines: list[str], problem: str) -> str:
    raw = "".join(lines)
    field, at = _broken_field(raw, sf.delimiter)
    column = f"column {sf.header[field]!r}" if field < len(sf.header) else f"field {field + 1}"
    shown = raw[max(0, at - SHOWN // 2):at + SHOWN // 2].replace("\r", "").replace("\n", " ")
    return (f"data row {records} (line {sf.header_line + line_num}), {column}: {problem}: a field that starts with "
            f"a quote must end with one, and a quote inside it is written twice (\"\"); near …{shown}…")


def _broken_field(raw: str, delimiter: str) -> tuple[int, int]:
    """(0-based field, character position) of the first quoted field of ``raw`` with text after its closing quote;
    (0, 0) when none shows (the record ended inside a quote)."""
    field, quoted, start = 0, False, True
    for i, char in enumerate(raw):
        if quoted:
            if char == '"' and raw[i + 1:i + 2] == '"':
                quoted = None  # an escaped quote: its second half is skipped below
            elif char == '"':
                quoted = False
                if raw[i + 1:i + 2] not in (delimiter, "\r", "\n", ""):
                    return field, i
        elif quoted is None:
            quoted = True
        elif char == delimiter:
            field, start = field + 1, True
            continue
        elif char == '"' and start:
            quoted = True
        start = False
    return 0, 0
