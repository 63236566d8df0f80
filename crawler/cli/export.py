"""``darkcrawl export misp|stix``: alerts shared with partner services, as a MISP feed (and a push to a MISP
instance) or a STIX 2.1 bundle. Documented in docs/sharing.md.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_command_group, add_json_option, es_session, print_answer, say
from crawler.errors import DarkcrawlError, UsageError

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

log = logging.getLogger(__name__)

DESCRIPTION = ("Alerts for partner services (CERTs, police units, fraud and AML teams): one MISP event or STIX "
               "report per alert (--per alert) or per watch (--per case; --case NAME: all in one). Dismissed alerts "
               "are left out unless --state says otherwise. See docs/sharing.md.")


def register(subparsers: Any) -> None:
    formats = add_command_group(subparsers, "export", help="share alerts as a MISP feed or STIX",
                                description=DESCRIPTION, metavar="FORMAT", dest="export_format")
    misp = add_command(
        formats, "misp", run_misp, help="write a MISP feed directory and/or push events to a MISP instance",
        description="Write a MISP feed (<uuid>.json per event, manifest.json, hashes.csv) that MISP can pull "
        "(Sync Actions > Feeds, format MISP feed), and/or push the events with PyMISP. UUIDs come from the alerts: "
        "a re-export or second push updates events, it never duplicates them.",
    )
    misp.add_argument("--out", metavar="DIR", help="the feed directory (created; earlier events in it are kept)")
    misp.add_argument("--prune", action="store_true",
                      help="remove the events of the feed directory that this export did not write")
    misp.add_argument("--push", nargs="?", const="", metavar="URL",
                      help="add or update the events on this MISP instance (no URL: DARKCRAWL_MISP_URL)")
    misp.add_argument("--api-key-file", metavar="FILE",
                      help="file holding the MISP API key (default: DARKCRAWL_MISP_API_KEY); never on the command line")
    misp.add_argument("--misp-ca-certs", metavar="FILE",
                      help="CA file to verify the MISP instance's certificate (default: DARKCRAWL_MISP_CA_CERTS)")
    add_selection_options(misp)
    stix = add_command(
        formats, "stix", run_stix, help="write a STIX 2.1 bundle (checked with stix2-validator)",
        description="Write a STIX 2.1 bundle: a report per case, observed-data and a note per alert, an indicator "
        "per URL, onion, e-mail, crypto address and PGP key, the producer's identity, TLP markings. The bundle is "
        "checked with stix2-validator before it is written; its warnings are summarised.",
    )
    stix.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle file to write ('-': stdout)")
    add_selection_options(stix)


def add_selection_options(parser: Any) -> None:
    """What both formats share: which alerts, how they are grouped, how they are marked."""
    from crawler.export.cases import PER_CHOICES
    from crawler.export.misp import TLP_LEVELS

    parser.add_argument("--since", help="only alerts seen (last_seen) since this date: 2026-11-01, now-7d")
    parser.add_argument("--state", default="new,acknowledged",
                        help="alert states to export, comma-separated (default new,acknowledged)")
    parser.add_argument("--watch", metavar="ID", help="only the alerts of this watch (its id, e.g. w-3f9c2a)")
    parser.add_argument("--watch-tag", metavar="TAG", help="only the alerts of watches with this tag (e.g. a case's)")
    parser.add_argument("--per", choices=PER_CHOICES, default="alert",
                        help="one event/report per alert (default), or per case: per watch, or one with --case")
    parser.add_argument("--case", metavar="NAME", help="put every selected alert in one case called NAME (--per case)")
    parser.add_argument("--tlp", default="amber", help=f"TLP marking: {', '.join(TLP_LEVELS)} (default amber)")
    parser.add_argument("--matched-only", action="store_true",
                        help="only what the watches matched, not the other signals of the alerted pages")
    add_json_option(parser, "print a summary as JSON for tools")


def select(args: argparse.Namespace, settings: BaseSettings) -> tuple[list[Any], dict[str, dict[str, Any]], int]:
    """The cases to export, the page documents they point at, and the number of alerts."""
    from crawler.es.schema import index_names
    from crawler.export.cases import PER_CASE, group_alerts
    from crawler.export.misp import tlp_level
    from crawler.export.source import AlertFilters, check_since, parse_states, read_alerts, read_pages

    args.tlp = tlp_level(args.tlp)
    if args.case and args.per != PER_CASE:
        args.per = PER_CASE
    if args.case is not None and not args.case.strip():
        raise UsageError("--case needs a name, e.g. --case 'Operation Nightjar'")
    filters = AlertFilters(check_since(args.since) if args.since else None, parse_states(args.state), args.watch,
                           args.watch_tag)
    names = index_names(settings)
    missing = f"no index {names.alerts} yet: run darkcrawl es init, add watches (darkcrawl watch add) and crawl"
    with es_session(settings, missing) as client:
        alerts = read_alerts(client, names, filters)
        pages = {} if args.matched_only or not alerts else read_pages(
            client, names, (str((alert.get("page") or {}).get("id") or "") for alert in alerts))
    return group_alerts(alerts, args.per, args.case), pages, len(alerts)


def _nothing(count: int, args: argparse.Namespace) -> None:
    if not count:
        what = f"states {args.state}" + (f", since {args.since}" if args.since else "") + (
            f", watch {args.watch}" if args.watch else "") + (f", watch tag {args.watch_tag}" if args.watch_tag else "")
        say(f"no alert matched ({what}): 0 exported")


def run_misp(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.export.misp import MispTarget, Producer, build_events, push_events, write_feed

    if args.out is None and args.push is None:
        raise UsageError("say where the events go: --out DIR (a MISP feed directory) and/or --push [URL]")
    if args.prune and args.out is None:
        raise UsageError("--prune removes events from a feed directory: give it with --out DIR")
    if args.push is None and (args.api_key_file or args.misp_ca_certs):
        raise UsageError("--api-key-file and --misp-ca-certs are for --push: add --push [URL]")
    producer = Producer.from_settings(settings)
    target = None
    if args.push is not None:
        target = MispTarget.from_settings(settings, args.push or None, args.api_key_file, args.misp_ca_certs)
    cases, pages, count = select(args, settings)
    _nothing(count, args)
    events = build_events(cases, producer, args.tlp, pages)
    answer: dict[str, Any] = {"alerts": count, "events": len(events), "tlp": args.tlp, "per": args.per}
    if args.out is not None:
        report = write_feed(events, Path(args.out), prune=args.prune)
        answer["feed"] = {"directory": str(report.directory), "written": len(report.written), "kept": report.kept,
                          "removed": report.removed}
    if target is not None:
        if events:
            say(f"pushing {len(events)} event(s) to MISP at {target.url}")
        pushed = push_events(target, events) if events else None
        answer["push"] = {"url": target.url, "added": len(pushed.added) if pushed else 0,
                          "updated": len(pushed.updated) if pushed else 0,
                          "refused": pushed.refused if pushed else []}
    print_answer(args.json, answer, lambda: misp_lines(answer))
    refused = answer.get("push", {}).get("refused")
    if refused:
        for line in refused:
            print(f"  refused: {line}", file=sys.stderr)
        raise DarkcrawlError(f"MISP refused {len(refused)} of {len(events)} event(s) (listed above)")
    return 0


def misp_lines(answer: dict[str, Any]) -> list[str]:
    lines = [f"{answer['alerts']} alert(s) exported as {answer['events']} MISP event(s) (per {answer['per']}, "
             f"TLP:{answer['tlp'].upper()})"]
    feed = answer.get("feed")
    if feed:
        lines.append(f"feed {feed['directory']}: {feed['written']} event file(s) written, {feed['kept']} kept from "
                     f"earlier exports, {feed['removed']} removed; manifest.json and hashes.csv updated")
    push = answer.get("push")
    if push:
        lines.append(f"MISP {push['url']}: {push['added']} event(s) added, {push['updated']} updated"
                     + (f", {len(push['refused'])} refused" if push["refused"] else ""))
    return lines


def run_stix(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.export import write_atomic
    from crawler.export.misp import Producer
    from crawler.export.stix import build_bundle, bundle_json, validate

    producer = Producer.from_settings(settings)
    cases, pages, count = select(args, settings)
    _nothing(count, args)
    bundle = build_bundle(cases, producer, args.tlp, pages)
    text = bundle_json(bundle)
    warnings = validate(text)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            write_atomic(Path(args.output), text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    kinds = Counter(str(item["type"]) for item in bundle.objects)
    answer = {"alerts": count, "reports": kinds.get("report", 0), "objects": len(bundle.objects),
              "indicators": kinds.get("indicator", 0), "file": args.output, "tlp": args.tlp, "per": args.per,
              "validator": {"errors": 0, "warnings": warning_summary(warnings)}}
    if args.output == "-":
        say(" ".join(stix_lines(answer)))
        return 0
    print_answer(args.json, answer, lambda: stix_lines(answer))
    return 0


WARNING_CODE = re.compile(r"\{(\d+)\}")


def warning_summary(warnings: list[str]) -> dict[str, dict[str, Any]]:
    """stix2-validator's warnings by check code (``103``: ids are UUIDv5, deterministic by design), each with its
    count and first message; every warning is logged at debug level (``-v``)."""
    summary: dict[str, dict[str, Any]] = {}
    for warning in warnings:
        log.debug("stix2-validator: %s", warning)
        match = WARNING_CODE.search(warning)
        entry = summary.setdefault(match.group(1) if match else "other", {"count": 0, "example": warning})
        entry["count"] += 1
    return summary


def stix_lines(answer: dict[str, Any]) -> list[str]:
    warnings = sorted(answer["validator"]["warnings"].items())
    summary = ", ".join(f"{entry['count']} x {{{code}}}" for code, entry in warnings)
    return [
        f"{answer['alerts']} alert(s) exported as {answer['reports']} STIX report(s), {answer['objects']} objects "
        f"({answer['indicators']} indicators, TLP:{answer['tlp'].upper()}) to {answer['file']}",
        "stix2-validator: valid, 0 errors" + (f"; warnings {summary} (see docs/sharing.md)" if summary else ""),
    ]
