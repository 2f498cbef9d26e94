"""The one CSV writer of the platform, safe to open in a spreadsheet (OWASP "CSV injection").

A cell that starts with = + - @, a tab or a carriage return (also after leading spaces, which some
importers trim) is read as a formula by Excel, LibreOffice and Google Sheets; such a cell gets a
leading single quote, so it shows as the text it was. Numbers (``-0.25``) stay numbers.
defusedcsv does the same but lets a tab- or CR-prefixed formula through, hence this rule.
"""

from __future__ import annotations

import csv
import re
from numbers import Number

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def csv_cell(value) -> str:
    """``value`` as a cell no spreadsheet evaluates."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, Number) or _NUMBER.match(text):
        return text
    if text.startswith(_TRIGGERS) or text.lstrip(" ").startswith(_TRIGGERS):
        return "'" + text
    return text


class _SafeWriter:
    def __init__(self, out):
        # RFC 4180 line ends (the excel dialect's \r\n): with them csv quotes a cell holding a lone
        # carriage return, which otherwise splits the row in every reader.
        self._writer = csv.writer(out, dialect="excel")

    def writerow(self, row) -> None:
        self._writer.writerow([csv_cell(cell) for cell in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out) -> _SafeWriter:
    """A ``csv.writer`` (excel dialect) whose every cell goes through ``csv_cell``."""
    return _SafeWriter(out)
