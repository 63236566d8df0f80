"""``darkcrawl watch add|list|show|pause|resume|remove|test|hunt``: what to warn about, kept in the watch store.

The kinds and their options are in docs/watch.md. The crawl evaluates the active watches on new or changed pages;
``hunt`` evaluates them over what is already indexed (crawler/alerts/hunt.py); ``test`` says what one watch would
find on one page, and stores nothing. Targets may hold secrets: every output shows them masked.
"""

from __future__ import annotations

import argparse
import getpass
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_command_group, add_json_option, es_session, print_answer, say
from crawler.errors import UsageError
from crawler.watch.model import CLONE, ENTITY, KINDS, NEW_SITE, REGEX, SEVERITIES, TERM, YARA, Watch, WatchMatch

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawler.watch.store import WatchStore

NAME_PATTERN = re.compile(r"\S(.{0,78}\S)?")
LANGUAGE = re.compile(r"[a-z]{2}")
# The options of each kind (dest names): given to another kind, they are refused rather than ignored.
KIND_OPTIONS = {
    TERM: ("term", "terms_file", "language"),
    REGEX: ("pattern",),
    YARA: ("rules",),
    ENTITY: ("value", "entity_kind"),
    CLONE: ("site", "max_distance"),
    NEW_SITE: ("category",),
}


def register(subparsers: Any) -> None:
    actions = add_command_group(
        subparsers, "watch",
        help="watches: terms, regex, YARA, entities, clones, new sites; add, list, test, hunt",
        description="Watches say what to warn about: the crawl checks new or changed pages against the active ones "
        "and writes an alert (darkcrawl alerts) per watch and page content; hunt checks what is already indexed. "
        "Kinds and options: docs/watch.md.",
    )

    add = add_command(actions, "add", run_add, help="add a watch",
                      description="Add a watch. Give --kind and that kind's options (docs/watch.md).")
    add.add_argument("name", metavar="NAME", help="a name for people (unique; up to 80 characters)")
    add.add_argument("--kind", required=True, choices=KINDS, help="what to look for")
    kind = add.add_argument_group("kind options")
    kind.add_argument("--term", action="append", default=[], metavar="PHRASE",
                      help="term: a word or phrase, accents and case ignored, whole words (repeatable)")
    kind.add_argument("--terms-file", metavar="FILE",
                      help="term: phrases from a file, one a line (blank lines and # comments skipped)")
    kind.add_argument("--language", action="append", default=[], metavar="CODE",
                      help="term: only pages in this language (ISO 639-1, e.g. fr; repeatable; default any)")
    kind.add_argument("--pattern", metavar="REGEX", help="regex: an RE2 pattern (no back-references, no look-around)")
    kind.add_argument("--rules", metavar="FILE", help="yara: a YARA rule file (compiled now, a copy kept)")
    kind.add_argument("--value", metavar="VALUE",
                      help="entity: an address, PGP fingerprint or key id, e-mail, network:handle, vendor, onion")
    kind.add_argument("--entity-kind", metavar="KIND", help="entity: read the value as this kind only "
                      "(crypto_address, pgp_fingerprint, pgp_key_id, email, handle, vendor, onion)")
    kind.add_argument("--site", metavar="ONION", help="clone: the watched site (its onion host or a URL on it)")
    kind.add_argument("--max-distance", type=int, metavar="BITS",
                      help="clone: largest SimHash distance of a clone's page (default 8)")
    kind.add_argument("--category", metavar="CATEGORY",
                      help="new-site: a watch-list category (e.g. fraud/carding; fraud covers its sub-categories)")
    add.add_argument("--owner", help="who is responsible for it (default: the OS user)")
    add.add_argument("--severity", choices=SEVERITIES, default="medium", help="how bad a hit is (default medium)")
    add.add_argument("--tag", action="append", default=[], metavar="TAG", help="a tag (repeatable)")
    add.add_argument("--target", action="append", default=[], metavar="URL|NAME",
                     help="notify here: an Apprise URL (mailto://, mmost://, json://...) or a target name from the "
                     "settings (repeatable; none: DARKCRAWL_NOTIFY_DEFAULT_TARGETS)")
    add.add_argument("--realert", default="0", metavar="DURATION",
                     help="no second notification for this watch within this time, e.g. 1h (default 0: every alert)")
    add.add_argument("--digest", default="0", metavar="DURATION",
                     help="gather the alerts of this time into one notification, e.g. 15m (default 0: one each)")
    add.add_argument("--paused", action="store_true", help="add it paused")
    add_json_option(add, "print the watch as JSON")

    listing = add_command(actions, "list", run_list, help="every watch", description="Every watch, oldest first.")
    add_json_option(listing, "print the watches as JSON")
    show = add_command(actions, "show", run_show, help="one watch", description="One watch and all its settings.")
    show.add_argument("id", metavar="ID", help="the watch id (w-...) or name")
    add_json_option(show, "print the watch as JSON")
    for action, text in (("pause", "stop checking pages against it (alerts stay)"),
                         ("resume", "check pages against it again"),
                         ("remove", "delete it (its alerts stay in the alerts index)")):
        sub = add_command(actions, action, run_change, help=text, description=f"{text[0].upper()}{text[1:]}.")
        sub.add_argument("id", metavar="ID", help="the watch id (w-...) or name")
        sub.set_defaults(change=action)

    test = add_command(actions, "test", run_test, help="what a watch would find on one page (stores nothing)",
                       description="Run one watch (paused or not) on a saved page FILE, extracted as the crawl "
                       "extracts it, or on an indexed page (--url). Says what would fire; writes no alert.")
    test.add_argument("id", metavar="ID", help="the watch id (w-...) or name")
    source = test.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE", help="a saved page (HTML or text)")
    source.add_argument("--url", metavar="URL", help="an indexed page, by its URL")
    test.add_argument("--page-url", metavar="URL", help="with FILE: the URL it was saved from (its site matters "
                      "to clone and new-site watches; it resolves links)")
    add_json_option(test, "print the result as JSON")

    hunt = add_command(actions, "hunt", run_hunt, help="retro-hunt: check indexed pages against watches",
                       description="Check the pages already indexed against the watches named (paused ones too), "
                       "making the alerts a crawl would have made; an alert that exists is not repeated.")
    hunt.add_argument("ids", nargs="+", metavar="ID", help="watch ids (w-...) or names")
    hunt.add_argument("--since", metavar="DATE", help="only pages seen since then (2026-12-01, now-7d)")
    add_json_option(hunt, "print the report as JSON")


def duration_seconds(text: str, what: str) -> int:
    """Whole seconds of a duration with a unit (``90s``, ``1h``, ``1h30m``); ``0`` is off. A bare number is refused:
    ``--realert 6`` could mean seconds or hours."""
    from crawler.scheduling.timing import parse_duration

    value = text.strip()
    if re.fullmatch(r"0+(\.0*)?", value):
        return 0
    return round(parse_duration(value, what))  # a bare number is refused there


def _store(settings: BaseSettings) -> WatchStore:
    from crawler.watch.store import WatchStore

    return WatchStore.from_settings(settings)


def _check_kind_options(args: argparse.Namespace) -> None:
    for kind, names in KIND_OPTIONS.items():
        if kind == args.kind:
            continue
        for name in names:
            if getattr(args, name) not in (None, []):
                option = "--" + name.replace("_", "-")
                raise UsageError(f"{option} is for {kind} watches, not {args.kind}: see docs/watch.md")


def build_spec(args: argparse.Namespace, settings: BaseSettings) -> dict[str, Any]:
    """The spec of the watch the options describe. Raises :class:`UsageError` (one line) for what is missing/wrong."""
    _check_kind_options(args)

    def need(option: str, value: Any) -> Any:
        if value is None:
            raise UsageError(f"a {args.kind} watch needs --{option} (docs/watch.md)")
        return value

    if args.kind == TERM:
        from crawler.watch.term import term_spec

        bad = [code for code in args.language if not LANGUAGE.fullmatch(code.strip().lower())]
        if bad:
            raise UsageError(f"--language {bad[0]!r}: give a two-letter ISO 639-1 code (en, fr, nl, de)")
        return term_spec([*args.term, *read_terms_file(args.terms_file)], args.language)
    if args.kind == REGEX:
        from crawler.watch.regex import regex_spec

        return regex_spec(need("pattern", args.pattern))
    if args.kind == YARA:
        from crawler.watch.store import watch_dir
        from crawler.watch.yara import yara_spec

        return yara_spec(need("rules", args.rules), watch_dir(settings) / "rules")
    if args.kind == ENTITY:
        from crawler.watch.entity import entity_spec

        return entity_spec(need("value", args.value), args.entity_kind)
    if args.kind == CLONE:
        from crawler.watch.clone import DEFAULT_MAX_DISTANCE, clone_spec

        distance = DEFAULT_MAX_DISTANCE if args.max_distance is None else args.max_distance
        return clone_spec(need("site", args.site), distance)
    from crawler.watch.newsite import new_site_spec
    from pipelines.extraction import spec_from_settings

    categories = {term.category for term in spec_from_settings(settings).build().watchlist.terms}
    return new_site_spec(need("category", args.category), categories)


def read_terms_file(name: str | None) -> list[str]:
    """The phrases of a terms file: one a line, blank lines and lines starting with # skipped. Raises
    :class:`UsageError` for a file that cannot be read or is not UTF-8 text."""
    if name is None:
        return []
    from crawler.cli.extract import read_input

    try:
        text = read_input(name).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"terms file {name} is not UTF-8 text: one phrase a line") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def check_targets(targets: list[str], settings: BaseSettings) -> list[str]:
    """The targets as given, once notify says each is one it can send to (a name in ``DARKCRAWL_NOTIFY_TARGETS``, or
    an Apprise URL it can use). Raises :class:`UsageError` (notify's TargetError) with the target masked."""
    from crawler.notify.deliver import NotifyConfig, check_target

    named = NotifyConfig.from_settings(settings).targets
    kept: list[str] = []
    for target in (target.strip() for target in targets):
        if not target:
            raise UsageError("--target is empty: give an Apprise URL or a target name")
        check_target(target, named)
        if target not in kept:
            kept.append(target)
    return kept


def run_add(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.items import utc_timestamp
    from crawler.watch.model import ACTIVE, PAUSED, new_watch_id

    name = " ".join(args.name.split())
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(f"watch name {args.name!r}: give 1 to 80 characters")
    if re.fullmatch(r"w-[0-9a-f]{6,}", name):
        raise UsageError(f"watch name {name!r} looks like a watch id: choose another")
    spec = build_spec(args, settings)
    tags = sorted({tag.strip() for tag in args.tag if tag.strip()})
    watch = Watch(
        id=new_watch_id(),
        name=name,
        kind=args.kind,
        spec=spec,
        owner=(args.owner or getpass.getuser()).strip(),
        severity=args.severity,
        tags=tags,
        targets=check_targets(args.target, settings),
        realert_seconds=duration_seconds(args.realert, "--realert"),
        digest_seconds=duration_seconds(args.digest, "--digest"),
        state=PAUSED if args.paused else ACTIVE,
        created_at=utc_timestamp(),
    )
    with _store(settings) as store:
        store.add(watch)
    print_answer(args.json, watch.to_public_json(), lambda: f"watch {watch.id} added: {watch_line(watch)}",
                 ensure_ascii=False)
    return 0


def describe_spec(watch: Watch) -> str:
    """The spec in a few words, for people."""
    spec = watch.spec
    if watch.kind == TERM:
        text = " | ".join(spec["terms"][:5]) + (f" (+{len(spec['terms']) - 5})" if len(spec["terms"]) > 5 else "")
        return text + (f" [{', '.join(spec['languages'])}]" if spec.get("languages") else "")
    if watch.kind == REGEX:
        return f"/{spec['pattern']}/"
    if watch.kind == YARA:
        return f"{spec['rules_path']} (sha256 {spec['rules_sha256'][:12]}...)"
    if watch.kind == ENTITY:
        return f"{spec['entity_kind']} {spec['value']}"
    if watch.kind == CLONE:
        return f"clones of {spec['site']} (within {spec['max_distance']} bits)"
    return f"new sites with {spec['category']}"


def watch_line(watch: Watch) -> str:
    return f"{watch.name} [{watch.kind}, {watch.severity}, {watch.state}] {describe_spec(watch)}"


def _when(seconds: int) -> str:
    from crawler.scheduling.timing import format_duration

    return format_duration(seconds) if seconds else "0 (off)"


def detail_lines(watch: Watch) -> list[str]:
    public = watch.to_public_json()
    return [
        f"{watch.id}  {watch.name}",
        f"  kind       {watch.kind}: {describe_spec(watch)}",
        f"  state      {watch.state}",
        f"  severity   {watch.severity}",
        f"  owner      {watch.owner or '-'}",
        f"  tags       {', '.join(watch.tags) or '-'}",
        f"  targets    {', '.join(public['targets']) or '- (DARKCRAWL_NOTIFY_DEFAULT_TARGETS)'}",
        f"  realert    {_when(watch.realert_seconds)}",
        f"  digest     {_when(watch.digest_seconds)}",
        f"  created    {watch.created_at}",
    ]


def run_list(args: argparse.Namespace, settings: BaseSettings) -> int:
    with _store(settings) as store:
        watches = store.watches()
    print_answer(args.json, [watch.to_public_json() for watch in watches],
                 lambda: [f"{watch.id}\t{watch_line(watch)}" for watch in watches]
                 or "no watch yet: darkcrawl watch add NAME --kind KIND ... (docs/watch.md)", ensure_ascii=False)
    return 0


def run_show(args: argparse.Namespace, settings: BaseSettings) -> int:
    with _store(settings) as store:
        watch = store.get(args.id)
    print_answer(args.json, watch.to_public_json(), lambda: detail_lines(watch), ensure_ascii=False)
    return 0


def run_change(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.watch.model import ACTIVE, PAUSED

    with _store(settings) as store:
        if args.change == "remove":
            watch = store.remove(args.id)
            print(f"watch {watch.id} removed ({watch.name}); its alerts stay")
            return 0
        watch = store.set_state(args.id, PAUSED if args.change == "pause" else ACTIVE)
    print(f"watch {watch.id} {watch.state} ({watch.name})")
    return 0


def file_page(path: str, page_url: str | None, settings: BaseSettings) -> dict[str, Any]:
    """The page document the crawl would index for the saved page at *path*: extracted as the crawl's extraction
    stage does (:func:`pipelines.extraction.fill_item`), shaped by :func:`crawler.sink.documents.page_document`."""
    from crawler.cli.extract import read_input
    from crawler.items import PageItem, utc_timestamp
    from crawler.sink.documents import page_document
    from pipelines.extract import extract_signals
    from pipelines.extract.text import url_host
    from pipelines.extraction import fill_item, spec_from_settings

    data = read_input(path)
    url = page_url or Path(path).resolve().as_uri()
    if page_url and not url_host(page_url):
        raise UsageError(f"--page-url {page_url!r}: give an http(s) URL, e.g. http://xyz.onion/product/1")
    item = PageItem(url=url, canonical_url=url, site=url_host(url) or "", status=200, fetched_at=utc_timestamp(),
                    crawl_id="watch-test", content_length=len(data),
                    html=data.decode("utf-8", "replace"))
    signals = extract_signals(data, url, config=spec_from_settings(settings).build())
    return page_document(fill_item(item, signals))


def indexed_page(client: Any, settings: BaseSettings, url: str) -> dict[str, Any]:
    from crawler.es.schema import index_names
    from crawler.identity import page_id

    names = index_names(settings)
    response = client.options(ignore_status=404).get(index=names.pages, id=page_id(url))
    if not response.get("found"):
        raise UsageError(f"{url} is not in the index {names.pages}: give the URL as crawled (darkcrawl search)")
    return dict(response["_source"])


def evaluate_one(watch: Watch, page: dict[str, Any], client: Any, settings: BaseSettings) -> list[WatchMatch]:
    """Run *watch* alone on *page*, with the clone references / known sites it needs read from the index."""
    from dataclasses import replace

    from crawler.watch.matchers import WatchSet

    references = known = None
    if client is not None:
        from crawler.es.schema import index_names

        names = index_names(settings)
        if watch.kind == CLONE:
            from crawler.watch.clone import load_clone_references

            references = load_clone_references(client, names, [str(watch.spec["site"])])
        if watch.kind == NEW_SITE:
            from crawler.watch.newsite import load_known_sites

            known = load_known_sites(client, names, before=page.get("first_seen"))
    return WatchSet.compile([replace(watch, state="active")], references, known).evaluate(page)


def result_lines(watch: Watch, page: dict[str, Any], found: list[WatchMatch]) -> list[str]:
    lines = [f"watch {watch.id} ({watch_line(watch)}) on {page.get('url')}:"]
    if not found:
        return [*lines, "  would not fire"]
    match = found[0]
    lines.append(f"  would fire: {len(match.matches)} match(es)")
    if match.clone:
        clone = match.clone
        lines.append(f"  clone of {clone['of_url']} at {clone['distance']} bit(s)")
        lines.append(f"  payment addresses here only: {', '.join(clone['addresses']['this']) or '-'}")
        lines.append(f"  payment addresses there only: {', '.join(clone['addresses']['watched']) or '-'}")
    for item in match.matches:
        what = item["entity_kind"] or item["rule"] or item["kind"]
        lines.append(f"  {what}: {item['value']}")
        if item["context"]:
            lines.append(f"      ...{item['context']}...")
    return lines


def run_test(args: argparse.Namespace, settings: BaseSettings) -> int:
    with _store(settings) as store:
        watch = store.get(args.id)
    needs_index = args.url is not None or watch.kind in (CLONE, NEW_SITE)
    if args.url is None and args.page_url is None and watch.kind in (CLONE, NEW_SITE):
        raise UsageError(f"a {watch.kind} watch compares sites: give --page-url URL (where the file was saved from)")
    if needs_index:
        with es_session(settings, "no pages index yet: run darkcrawl es init and crawl something first") as client:
            page = indexed_page(client, settings, args.url) if args.url else file_page(args.file, args.page_url,
                                                                                      settings)
            found = evaluate_one(watch, page, client, settings)
    else:
        page = file_page(args.file, args.page_url, settings)
        found = evaluate_one(watch, page, None, settings)
    answer = {
        "watch": watch.to_public_json(),
        "page": {key: page.get(key) for key in ("url", "site", "title", "language", "content_sha256")},
        "fires": bool(found),
        "matches": found[0].matches if found else [],
        "clone": found[0].clone if found else None,
    }
    print_answer(args.json, answer, lambda: result_lines(watch, page, found), ensure_ascii=False)
    return 0


def run_hunt(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.alerts.hunt import run_hunt as hunt

    report = hunt(settings, list(args.ids), args.since, say)
    print_answer(args.json, report.as_json(), report.lines)
    return 0
