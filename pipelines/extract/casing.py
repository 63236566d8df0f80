"""Lower-casing that keeps every index: positions found in the lowered text are valid in the original.

Offers :func:`lower_same_length`. Finders search a lowered copy of a page with ``str.find`` (much cheaper than
case-insensitive regular expressions) and then read the original at the same positions. Several finders lower the
same page one after the other (onions, PGP, contacts, vendors): the last long text lowered is remembered, by
identity, so a page is lowered once.
"""

from __future__ import annotations

_MEMO_FROM = 4096  # characters from which a text's lowered copy is remembered (short windows are not)
# (text, its lowered copy) of the last long text lowered; one tuple, replaced whole (safe across threads).
_last: tuple[str, str] = ("", "")


def lower_same_length(text: str) -> str:
    """*text* in lower case with every index unchanged (``str.lower`` lengthens a few characters, such as "İ", which
    are then left as they are)."""
    global _last
    last = _last
    if last[0] is text:
        return last[1]
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(char if len(char.lower()) != 1 else char.lower() for char in text)
    if len(text) >= _MEMO_FROM:
        _last = (text, lowered)
    return lowered
