"""Text made safe for the analyst's terminal. A bottom module: it imports nothing of darkcrawl.

Text that came from a page (a title, a highlight, a URL) or a file may hold control characters: ESC or CSI (U+009B)
sequences that would move the cursor, rewrite the screen or set the window title, and bidirectional overrides that
show text in another order than it is. :func:`printable` removes them from what is printed for people (the CLI's
answers, its log lines, search highlights); :func:`json_text` gives JSON answers with those characters escaped
(``\\u009b``), never raw, so that the data stays what it is.

Offers :func:`printable`, :func:`json_text` and :data:`REPLACEMENT`.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls (U+009B is CSI), and the bidirectional overrides and isolates
# that make a terminal show text in another order than it is (U+202A-U+202E, U+2066-U+2069).
_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNPRINTABLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
# the same, but for the bold and reset sequences darkcrawl itself wrote around search matches
_UNPRINTABLE_STYLED = re.compile(f"\x1b(?!\\[[01]m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f{_BIDI}]")
_RAW_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")  # json.dumps escapes C0 itself
REPLACEMENT = "\ufffd"


def printable(text: str, multiline: bool = False, styled: bool = False) -> str:
    """*text* safe for a terminal: every control character replaced by U+FFFD (so the reader sees something was
    there). Tabs and newlines stay when *multiline*, else they become spaces. *styled* keeps the bold and reset
    sequences (``ESC[1m``, ``ESC[0m``) of text whose page-borne parts went through here already."""
    if styled:
        return _UNPRINTABLE_STYLED.sub(REPLACEMENT, text)
    if multiline:
        return _UNPRINTABLE.sub(REPLACEMENT, text)
    return _UNPRINTABLE_LINE.sub(lambda match: " " if match.group() in "\t\n" else REPLACEMENT, text)


def json_text(answer: Any, **json_options: Any) -> str:
    """*answer* as indented JSON in which no control character is raw (with ``ensure_ascii=False`` too): the same
    data, and nothing a terminal would obey when the JSON is printed."""
    text = json.dumps(answer, indent=2, **json_options)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
