"""The text of a notification, built from the alert: plain text, short, safe to show in any mail client or chat.

Documentation: docs/notify.md, "Messages". Everything that comes from a crawled page (URL, title, matched values,
context) is untrusted: control and format characters are removed (no terminal escapes, no bidi overrides that would
make one URL read as another), lengths are bounded, and chat broadcast mentions (``@channel``, ``@all``, ``@here``,
``@everyone``, ``<!channel>``) are defused so a page cannot page a whole team.

Offers: :func:`clean_text`, :func:`render`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

MAX_FIELD = 300
MAX_LISTED = 25  # alerts listed in one digest; the rest are counted
_BROADCAST = re.compile(r"(?i)(<!(?:channel|here|everyone)>|@(?:channel|here|all|everyone)\b)")


def clean_text(value: Any, limit: int = MAX_FIELD, newlines: bool = False) -> str:
    """*value* as plain printable text: no control or format characters, at most *limit* characters."""
    text = "" if value is None else str(value)
    kept = []
    for char in text:
        if char == "\n" and newlines:
            kept.append(char)
        elif char in "\t\r\n":
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(char)
    text = _BROADCAST.sub(lambda match: match.group(0).replace("@", "(at)").replace("<!", "<! "), "".join(kept))
    text = re.sub(r" {2,}", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _match_lines(alert: dict[str, Any]) -> list[str]:
    out = []
    for match in alert.get("matches") or []:
        kind = clean_text(match.get("entity_kind") or match.get("kind"), 40)
        rule = f" (rule {clean_text(match.get('rule'), 80)})" if match.get("rule") else ""
        out.append(f"  - {kind}: {clean_text(match.get('value'), 200)}{rule}")
        if match.get("context"):
            out.append(f"    context: \"{clean_text(match.get('context'))}\"")
    extra = int(alert.get("match_count") or 0) - len(alert.get("matches") or [])
    if extra > 0:
        out.append(f"  - and {extra} more (darkcrawl alerts show)")
    clone = alert.get("clone")
    if clone:
        out.append(
            f"  - clone of {clean_text(clone.get('of_site'), 100)} ({clean_text(clone.get('of_url'), 200)}), "
            f"SimHash distance {clean_text(clone.get('distance'), 10)}"
        )
        addresses = clone.get("addresses") or {}
        if addresses.get("this"):
            out.append(f"    payment addresses here: {clean_text(', '.join(map(str, addresses['this'])), 300)}")
    return out


def _alert_block(alert: dict[str, Any]) -> list[str]:
    page = alert.get("page") or {}
    lines = [
        f"Page: {clean_text(page.get('url'), 500)}",
        f"Site: {clean_text(page.get('site'), 100)}",
    ]
    if page.get("title"):
        lines.append(f"Title: {clean_text(page.get('title'), 200)}")
    lines.append(f"Seen: {clean_text(alert.get('first_seen') or alert.get('created_at'), 40)}"
                 + (f" ({clean_text(alert.get('source'), 10)})" if alert.get("source") else ""))
    matches = _match_lines(alert)
    if matches:
        lines.append("Matched:")
        lines.extend(matches)
    lines.append(f"Details: darkcrawl alerts show {clean_text(alert.get('alert_id'), 80)}")
    return lines


def _suppressed_lines(suppressed: Sequence[dict[str, Any]], count: int, since: float | None) -> list[str]:
    if not count:
        return []
    lines = ["", f"{count} more alert(s) of this watch since {_when(since)} were not notified (realert window):"]
    lines.extend(f"  - {clean_text(item.get('url'), 300)} ({clean_text(item.get('alert_id'), 80)})"
                 for item in suppressed)
    if count > len(suppressed):
        lines.append(f"  - and {count - len(suppressed)} more (darkcrawl alerts list)")
    return lines


def render(
    watch: dict[str, Any],
    alerts: Sequence[dict[str, Any]],
    digest_window: tuple[float, float] | None = None,
    suppressed: Sequence[dict[str, Any]] = (),
    suppressed_count: int = 0,
    suppressed_since: float | None = None,
) -> tuple[str, str]:
    """Title and plain-text body of one notification: one alert, or a digest of *alerts* over *digest_window*."""
    severity = clean_text(watch.get("severity"), 20).upper() or "ALERT"
    name = clean_text(watch.get("name"), 120)
    header = (f"Watch: {name} ({clean_text(watch.get('id'), 40)}, {clean_text(watch.get('kind'), 20)}, "
              f"severity {clean_text(watch.get('severity'), 20)}"
              + (f", owner {clean_text(watch.get('owner'), 60)}" if watch.get("owner") else "") + ")")
    if digest_window is None:
        alert = alerts[0]
        site = clean_text((alert.get("page") or {}).get("site"), 100)
        title = f"[darkcrawl] {severity}: {name} on {site}"
        lines = [header, *_alert_block(alert)]
    else:
        sites = sorted({clean_text((alert.get("page") or {}).get("site"), 100) for alert in alerts})
        title = f"[darkcrawl] {severity}: {name}: {len(alerts)} alert(s) on {len(sites)} site(s) (digest)"
        lines = [header, f"Digest of {_when(digest_window[0])} to {_when(digest_window[1])}: {len(alerts)} alert(s)"]
        for number, alert in enumerate(alerts[:MAX_LISTED], 1):
            lines.append("")
            lines.append(f"#{number}")
            lines.extend(_alert_block(alert))
        if len(alerts) > MAX_LISTED:
            lines.append("")
            lines.append(f"and {len(alerts) - MAX_LISTED} more: darkcrawl alerts list --watch {watch.get('id')}")
    lines.extend(_suppressed_lines(suppressed, suppressed_count, suppressed_since))
    return title, "\n".join(lines)
