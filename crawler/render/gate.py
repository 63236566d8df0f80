"""The JavaScript-gate heuristic: does a plainly fetched page look like it shows nothing without JavaScript?

Pure functions, no Scrapy import. :func:`gate_reason` returns a short reason (``empty_body_with_scripts``,
``noscript_warning``) or None from the :class:`~pipelines.extract.text.GateFacts` of the page's one parse (the render
middleware asks :func:`crawler.fetch.parsed.parsed_response` for them); :func:`js_gate_reason` does the same from
markup alone. The render middleware retries such a page once in the browser; the bound is there, not here: a page
that still looks like a gate once rendered is kept as it is.
"""

from __future__ import annotations

import re

from pipelines.extract.text import GateFacts, gate_facts

# Visible text (scripts, styles, noscript removed) at most this long counts as "no content of its own".
EMPTY_TEXT = 80
# With a <noscript> warning about JavaScript, a page with this little visible text is a gate.
GATE_TEXT = 400
MAX_SCANNED = 512 * 1024  # gates are small pages; a large one is not parsed at all
_JS_WORDS = re.compile(r"\bjava\s*script\b|\benable\s+js\b|\bjs\s+(?:is\s+)?(?:required|disabled)\b", re.IGNORECASE)


def gate_reason(facts: GateFacts | None) -> str | None:
    """Return why a page with these *facts* looks like a JavaScript gate (an empty body with scripts, or a
    ``<noscript>`` warning on an almost empty page), or None when it shows content of its own (or was not read:
    empty, or larger than :data:`MAX_SCANNED`)."""
    if facts is None:
        return None
    if len(facts.visible) <= GATE_TEXT and any(_JS_WORDS.search(text or "") for text in facts.noscript_texts):
        return "noscript_warning"
    if facts.scripts and len(facts.visible) <= EMPTY_TEXT:
        return "empty_body_with_scripts"
    return None


def js_gate_reason(html: str) -> str | None:
    """:func:`gate_reason` of *html* parsed on its own."""
    if not html or len(html) > MAX_SCANNED:
        return None
    return gate_reason(gate_facts(html))
