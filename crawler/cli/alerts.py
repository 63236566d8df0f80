"""``darkcrawl alerts list|show|ack|dismiss``: what the watches found, and who handled it. See README "Watch and warn"
and docs/schema.md ("Alerts").
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crawler.alerts.documents import ACKNOWLEDGED, DISMISSED, STATES
from crawler.cli.common import (
    add_command,
    add_command_group,
    add_json_option,
    add_limit_option,
    es_session,
    print_answer,
)
from crawler.watch.model import SEVERITIES

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    actions = add_command_group(
        subparsers, "alerts",
        help="what the watches found: list, show, ack, dismiss",
        description="Alerts: one per watch and page content, made by crawls and by `darkcrawl watch hunt`. "
        "Acknowledge or dismiss them; who did it, when and why is kept.",
    )
    listing = add_command(actions, "list", run_list, help="alerts, newest first",
                          description="Alerts newest first (by first seen), filtered.")
    listing.add_argument("--state", choices=STATES, help="only alerts in this state (new: the open ones)")
    listing.add_argument("--watch", metavar="ID", help="only alerts of this watch (its id, w-..., or its name)")
    listing.add_argument("--severity", choices=SEVERITIES, help="only alerts of watches of this severity")
    listing.add_argument("--since", help="only alerts first seen since this date (2026-12-01, now-7d)")
    add_limit_option(listing, default=20, what="alerts")
    add_json_option(listing, "print the alerts as JSON for tools")
    show = add_command(actions, "show", run_show, help="one alert, with its matches and history",
                       description="One alert: watch, page, what matched and where, its state history.")
    show.add_argument("id", metavar="ID", help="the alert id, or its first 8+ characters")
    add_json_option(show, "print the alert document as JSON")
    for action, state, text in (("ack", ACKNOWLEDGED, "acknowledge it: seen, being handled"),
                                ("dismiss", DISMISSED, "dismiss it: not relevant (a false positive)")):
        sub = add_command(actions, action, run_change, help=text, description=f"{text[0].upper()}{text[1:]}.")
        sub.add_argument("id", metavar="ID", help="the alert id, or its first 8+ characters")
        sub.add_argument("--note", help="why (kept in the alert's history)")
        sub.add_argument("--by", help="who (default: the OS user)")
        add_json_option(sub, "print the changed alert as JSON")
        sub.set_defaults(state=state)


def alerts_alias(settings: BaseSettings) -> tuple[str, str]:
    """The alerts alias and what to say when it does not exist."""
    from crawler.es.schema import index_names

    alias = index_names(settings).alerts
    return alias, f"no index {alias} yet: run darkcrawl es init (or a crawl), and add watches (darkcrawl watch add)"


def with_alerts(settings: BaseSettings, action: Callable[[Any, str], Any]) -> Any:
    """``action(client, alias)`` in an Elasticsearch session; a missing index is one line saying what to do."""
    alias, missing = alerts_alias(settings)
    with es_session(settings, missing) as client:
        return action(client, alias)


def watch_id(settings: BaseSettings, key: str | None) -> str | None:
    """The id of the watch *key* names (an id or a name); an id of a watch removed since is taken as it is."""
    from crawler.watch.store import WatchStore

    if not key:
        return key
    with WatchStore.from_settings(settings) as store:
        watch = store.find(key)
    if watch is None and not key.startswith("w-"):
        from crawler.errors import UsageError

        raise UsageError(f"no watch named {key!r} (darkcrawl watch list shows them)")
    return watch.id if watch is not None else key


def run_list(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.alerts.store import AlertFilters, search_alerts

    filters = AlertFilters(args.state, watch_id(settings, args.watch), args.severity, args.since)
    total, alerts = with_alerts(settings, lambda client, alias: search_alerts(client, alias, filters, args.limit))
    print_answer(args.json, {"total": total, "alerts": alerts}, lambda: list_lines(total, alerts))
    return 0


def list_lines(total: int, alerts: list[dict[str, Any]]) -> list[str]:
    lines = [f"{total} alert(s)" + (f", showing {len(alerts)}" if total > len(alerts) else "")]
    for alert in alerts:
        values = ", ".join(dict.fromkeys(str(match.get("value")) for match in alert.get("matches", [])))
        lines.append(
            f"{alert['alert_id'][:12]}  {alert['state']:<12} {alert['watch']['severity']:<8} "
            f"{alert['first_seen'][:19]}  {alert['watch']['id']} {alert['watch']['name']}"
        )
        lines.append(f"    {alert['page']['url']}  [{shorten(values, 100)}]")
    return lines


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def run_show(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.alerts.store import get_alert

    alert = with_alerts(settings, lambda client, alias: get_alert(client, alias, args.id))
    print_answer(args.json, alert, lambda: show_lines(alert), ensure_ascii=False)
    return 0


def show_lines(alert: dict[str, Any]) -> list[str]:
    watch, page = alert["watch"], alert["page"]
    lines = [
        f"alert {alert['alert_id']}",
        f"  state       {alert['state']}",
        f"  watch       {watch['id']} {watch['name']} ({watch['kind']}, {watch['severity']})",
        f"  page        {page['url']}",
        f"  title       {page.get('title') or '-'}",
        f"  site        {page['site']}   language {page.get('language') or '-'}",
        f"  seen        first {alert['first_seen']}, last {alert['last_seen']} ({alert['source']})",
        "  matches",
    ]
    for match in alert.get("matches", []):
        kind = match.get("entity_kind") or match.get("rule") or match.get("kind")
        lines.append(f"    {kind}: {match.get('value')}")
        if match.get("context"):
            lines.append(f"      {shorten(' '.join(str(match['context']).split()), 200)}")
    clone = alert.get("clone")
    if clone:
        lines.append(f"  clone of    {clone.get('of_url')} (distance {clone.get('distance')})")
        addresses = clone.get("addresses") or {}
        lines.append(f"    its addresses   {', '.join(addresses.get('watched', [])) or '-'}")
        lines.append(f"    these addresses {', '.join(addresses.get('this', [])) or '-'}")
    lines.append("  history")
    for entry in alert.get("history", []):
        note = f": {entry['note']}" if entry.get("note") else ""
        lines.append(f"    {entry['at']}  {entry['state']:<12} by {entry['by']}{note}")
    return lines


def run_change(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.alerts.store import change_state

    by = (args.by or "").strip() or getpass.getuser()
    alert = with_alerts(settings, lambda client, alias: change_state(client, alias, args.id, args.state, by, args.note))
    print_answer(args.json, alert, lambda: f"alert {alert['alert_id'][:12]}: {args.state} by {by}", ensure_ascii=False)
    return 0
