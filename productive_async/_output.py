"""Making server-supplied text safe to show: on a terminal, and in a spreadsheet.

Text the API sends (error titles and details, record values, names) is data from elsewhere.
Printed as it is, an escape sequence in it would drive the user's terminal: move the cursor,
rewrite what was shown, set the window title, write to the clipboard (OSC 52), make a link that
shows one address and opens another. :func:`terminal_text` removes every control sequence and
control character (ECMA-48: CSI, OSC/DCS/SOS/PM/APC strings, other ESC sequences, the C0 and C1
controls and DEL) but newline and tab, and the bidirectional overrides that make text show in
another order than it reads. Rich markup (``[bold]``) and emoji codes (``:warning:``) are not
interpreted when the text is printed as a :class:`rich.text.Text`: :func:`plain_text` makes one.

A spreadsheet opening a CSV file runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or
a tab or carriage return before one, OWASP "CSV Injection") as a formula.
:func:`csv_text` prefixes such a cell with ``'`` so it shows as text; a cell that is a plain
number (``-12``, ``+1.5``, ``-2.5e3``: an API decimal, a negative amount) cannot run anything
and is left as it is, and numbers that are not text never change.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

__all__ = ["csv_text", "plain_text", "terminal_text"]

#: ECMA-48 control sequences, 7-bit and 8-bit: CSI, the control strings (OSC, DCS, SOS, PM,
#: APC) up to their terminator (ST, BEL, or the end of the text), and the other escapes.
_SEQUENCE = re.compile(
    r"""
      (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?           # CSI ... final byte
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z)  # control strings
    | \x1b [\x20-\x2f]* [\x30-\x7e]?                                    # other ESC sequences
    """,
    re.VERBOSE | re.DOTALL,
)
#: What is left to drop: C0 controls but tab and newline, DEL, C1 controls, and the
#: bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_CONTROLS = {code: None for code in (*range(0x00, 0x20), *range(0x7F, 0xA0),
                                     *range(0x202A, 0x202F), *range(0x2066, 0x206A))
             if code not in (0x09, 0x0A)}
_SINGLE_LINE = {**_CONTROLS, 0x09: " ", 0x0A: " "}

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def terminal_text(value: Any, *, single_line: bool = False) -> str:
    """``str(value)`` without terminal control sequences or control characters (a CR LF pair
    becomes a newline; tabs and newlines stay, or become spaces with ``single_line``)."""
    text = _SEQUENCE.sub("", str(value).replace("\r\n", "\n"))
    return text.translate(_SINGLE_LINE if single_line else _CONTROLS)


def plain_text(value: Any, style: str = "", *, single_line: bool = False) -> Text:
    """:func:`terminal_text` of ``value`` as a rich :class:`~rich.text.Text` (printed as it
    is: no markup, no emoji codes, no highlighting), in ``style``."""
    return Text(terminal_text(value, single_line=single_line), style=style)


def csv_text(value: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula: ``'`` before text starting with
    ``=``, ``+``, ``-``, ``@``, tab or carriage return, unless the text is a plain number."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
