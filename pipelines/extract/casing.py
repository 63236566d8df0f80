"""Lower-casing that keeps every index: positions found in the lowered text are valid in the original.

Offers :func:`lower_same_length`. Finders search a lowered copy of a page with ``str.find`` (much cheaper than
case-insensitive regular expressions) and then read the original at the same positions.
"""

from __future__ import annotations


def lower_same_length(text: str) -> str:
    """*text* in lower case with every index unchanged (``str.lower`` lengthens a few characters, such as "İ", which
    are then left as they are)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(char if len(char.lower()) != 1 else char.lower() for char in text)
