"""The JavaScript-gate heuristic: does a plainly fetched page look like it shows nothing without JavaScript?

Pure functions, no Scrapy import. :func:`js_gate_reason` returns a short reason (``empty_body_with_scripts``,
``noscript_warning``) or None. The render middleware retries such a page once in the browser; the bound is there, not
here: a page that still looks like a gate once rendered is kept as it is.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

# Visible text (scripts, styles, noscript removed) at most this long counts as "no content of its own".
EMPTY_TEXT = 80
# With a <noscript> warning about JavaScript, a page with this little visible text is a gate.
GATE_TEXT = 400
MAX_SCANNED = 512 * 1024  # gates are small pages; a large one is not parsed at all
_JS_WORDS = re.compile(r"\bjava\s*script\b|\benable\s+js\b|\bjs\s+(?:is\s+)?(?:required|disabled)\b", re.IGNORECASE)
_HIDDEN = ("script", "style", "noscript", "template")


def js_gate_reason(html: str) -> str | None:
    """Return why *html* looks like a JavaScript gate (an empty body with scripts, or a ``<noscript>`` warning on an
    almost empty page), or None when it shows content of its own."""
    if not html or len(html) > MAX_SCANNED:
        return None
    tree = LexborHTMLParser(html)
    scripts = len(tree.css("script"))
    warnings = [node.text(deep=True) for node in tree.css("noscript")]
    tree.strip_tags(list(_HIDDEN))
    body = tree.body
    visible = " ".join((body.text(deep=True, separator=" ") if body is not None else "").split())
    if len(visible) <= GATE_TEXT and any(_JS_WORDS.search(text or "") for text in warnings):
        return "noscript_warning"
    if scripts and len(visible) <= EMPTY_TEXT:
        return "empty_body_with_scripts"
    return None
