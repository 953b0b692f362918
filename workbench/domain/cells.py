"""Text cells that a spreadsheet would run as a formula, and how exports keep them text.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return) as a formula, so a description like ``=HYPERLINK(...)``
pulled from a source system could run when a buyer opens an export. Every CSV the app writes
(table exports, data packages) passes its text through :func:`neutralise`, which puts a single
quote in front of such text, as OWASP recommends for CSV injection; a spreadsheet shows the
text as it was and runs nothing. XLSX exports write such text as string cells instead, unchanged.

The data package reader undoes the quote with :func:`restore`, so a package round-trips
exactly: a quote is added before text starting with a formula character (or with a quote and
one of those), and removed only when followed by one of those characters or a quote, so
``'hello`` typed by hand stays ``'hello``.
Numbers are never touched: only text is neutralised.
"""

from __future__ import annotations

#: first characters that make a spreadsheet read a cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_START = (*FORMULA_START, "'")


def is_formula_text(text: str) -> bool:
    """True when a spreadsheet would take ``text`` for a formula."""
    return text.startswith(FORMULA_START)


def neutralise(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text (a quote before formula text)."""
    if text.startswith(FORMULA_START) or restore(text) != text:
        return "'" + text
    return text


def restore(cell: str) -> str:
    """The text :func:`neutralise` was given, from the cell it wrote."""
    if cell.startswith("'") and len(cell) > 1 and cell[1] in _ESCAPED_START:
        return cell[1:]
    return cell
