"""The CSV syntax shared by the import (which reads it) and the exports (which write it),
so that an unchanged export imports as it is.

- Category paths: names from the top, separated by ``>`` (or ``/``), e.g.
  ``Hardware > Bolts``. A ``>``, ``/`` or ``\\`` inside a name is written with a
  backslash before it (``Nuts \\/ bolts``).
- Booleans: ``true`` and ``false`` (the import also reads 1/0, yes/no, y/n, t/f).
- Text cells that a spreadsheet would run as a formula (OWASP "CSV injection"): a cell
  starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, after any number
  of single quotes, is written with one more single quote in front (``'=SUM(A1)``), and
  the import removes that one quote again. Numbers are written as numbers (``-5``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SEPARATORS = frozenset(">/")
ESCAPE = "\\"
FORMULA_START = frozenset("=+-@\t\r")
_QUOTED_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_SEPARATOR = re.compile(r"[>/]")


def neutralize(text: str) -> str:
    """A text cell as the exports write it."""
    if text and (text[0] in FORMULA_START or (text[0] == "'" and _QUOTED_FORMULA.match(text))):
        return "'" + text
    return text


def restore(text: str) -> str:
    """The cell as it was before ``neutralize`` (the import reads every cell through it)."""
    if text[:1] == "'" and _QUOTED_FORMULA.match(text, 1):
        return text[1:]
    return text


def category_path_split(text: str) -> list[str]:
    """The names of a category path, from the top; blanks around names and empty names
    are dropped (``" > "`` is the empty path)."""
    if ESCAPE not in text:  # the usual path: no escapes, split at once
        return [name for name in (part.strip() for part in _SEPARATOR.split(text)) if name]
    names: list[str] = []
    current: list[str] = []
    characters = iter(text)
    for character in characters:
        if character == ESCAPE:
            following = next(characters, "")
            if following in SEPARATORS or following == ESCAPE:
                current.append(following)
            else:  # a backslash that escapes nothing is itself
                current.append(character + following)
        elif character in SEPARATORS:
            names.append("".join(current).strip())
            current = []
        else:
            current.append(character)
    names.append("".join(current).strip())
    return [name for name in names if name]


def category_path_join(names: Iterable[str]) -> str:
    """The path the import reads back as ``names``."""
    return " > ".join(
        "".join(
            ESCAPE + character if character in SEPARATORS or character == ESCAPE else character for character in name
        )
        for name in names
    )


def boolean(value: bool) -> str:
    return "true" if value else "false"
