"""``darkcrawl es install|start|stop|status|replay|init``: the managed Elasticsearch node and the index setup.

Documented in docs/schema.md. With ``DARKCRAWL_ES_URL`` set, darkcrawl uses that cluster: ``start`` and ``stop`` only
say so (nothing is started or stopped), ``status`` and ``init`` talk to it. The work is done in :mod:`crawler.es`
(the node, the cluster's status, the index setup) and :mod:`crawler.sink.backlog` (the spools); this module parses the
command line and prints. Its progress goes to stdout: it is all these commands print.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_command_group, add_json_option, print_answer, sayer
from crawler.redact import mask_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

say = sayer("", stdout=True)


def register(subparsers: Any) -> None:
    actions = add_command_group(
        subparsers, "es",
        help="the managed Elasticsearch node and the index templates",
        description="Install, start, stop and inspect the managed Elasticsearch node; install the index templates.",
    )
    add_command(actions, "install", run_install,
                help="fetch Elasticsearch from Maven Central, create its user (setup.sh)")
    start = add_command(actions, "start", run_start, help="start the managed node and wait until it is healthy")
    start.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for health (default 180)")
    add_command(actions, "stop", run_stop, help="stop the managed node")
    status = add_command(actions, "status", run_status,
                         help="say whether Elasticsearch is up (exit 0) or not (exit 1)")
    add_json_option(status, "print the status as a JSON object")
    add_command(actions, "replay", run_replay, help="index the pages spooled while Elasticsearch was unreachable")
    init = add_command(actions, "init", run_init,
                       help="install or upgrade the index templates and create the first indices")
    init.add_argument("--prefix", help="index prefix (default: DARKCRAWL_ES_INDEX_PREFIX)")


def shown_url(settings: BaseSettings) -> str:
    from crawler.es.status import external_url

    return mask_url(external_url(settings))


def run_install(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.es.install import install
    from crawler.es.node import NodeInstance, prepare
    from crawler.es.status import external_url

    if external_url(settings):
        say(f"DARKCRAWL_ES_URL names an external cluster ({shown_url(settings)}); installing the local node anyway")
    result = install(settings, say)
    instance = NodeInstance.from_settings(settings)
    had_credentials = instance.credentials_file.is_file()
    prepare(instance, result.java_home)
    if not had_credentials:
        say(f"password of the 'elastic' user generated: {instance.credentials_file} (mode 0600)")
    if not result.changed and had_credentials:
        say("already installed")
    return 0


def run_start(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.es.status import check_cluster, external_url

    if external_url(settings):
        version = check_cluster(settings)
        say(f"DARKCRAWL_ES_URL names an external cluster: nothing started; Elasticsearch {version} answers there")
        return 0
    from crawler.es.node import NodeInstance, start

    node = start(NodeInstance.from_settings(settings), say, timeout=args.timeout)
    took = node.details.get("startup_seconds")
    suffix = f" (started in {took}s)" if took is not None else ""
    say(f"Elasticsearch {node.version or ''} is up at {node.url}{suffix}".replace("  ", " "))
    return 0


def run_stop(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.es.status import external_url

    if external_url(settings):
        say(f"DARKCRAWL_ES_URL names an external cluster ({shown_url(settings)}): darkcrawl stops nothing")
        return 0
    from crawler.es.node import NodeInstance, stop

    instance = NodeInstance.from_settings(settings)
    say("Elasticsearch stopped" if stop(instance) else f"Elasticsearch was not running ({instance.url})")
    return 0


def run_status(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.sink.backlog import status_report
    from crawler.sink.crawlrecord import crawl_spool

    report = status_report(settings)
    if args.json:
        print_answer(True, report, lambda: "")
    else:
        print(report["message"], file=sys.stdout if report["healthy"] else sys.stderr)
        spool = report["spool"]
        if spool["pages"]:
            print(f"spool: {spool['pages']} pages waiting in {spool['path']} (darkcrawl es replay)")
        if spool["crawl_records"]:
            print(f"spool: {spool['crawl_records']} crawl records waiting in {crawl_spool(settings).path} "
                  "(darkcrawl es replay)")
    return 0 if report["healthy"] else 1


def run_init(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.es.schema import ensure_indices, index_names

    if args.prefix:
        settings.set("DARKCRAWL_ES_INDEX_PREFIX", args.prefix, priority="cmdline")
    report = ensure_indices(settings, say)
    names = index_names(settings)
    say(f"index setup {'done' if report.changed else 'unchanged'}: aliases {names.pages}, {names.entities}, "
        f"{names.crawls}")
    return 0


def run_replay(args: argparse.Namespace, settings: BaseSettings) -> int:
    """Index the spooled pages now (a crawl also does it when it starts); they stay spooled if this fails."""
    from crawler.sink.backlog import replay_backlog

    replayed = replay_backlog(settings, say)
    if replayed.empty:
        say(f"spool {replayed.path}: empty, nothing to replay")
        return 0
    failed = replayed.counts.get("darkcrawl/index/failed", 0)
    say(f"replayed {replayed.pages} spooled pages: {replayed.counts.get('darkcrawl/index/indexed', 0)} indexed, "
        f"{failed} rejected" + (" (see the dead-letter file)" if failed else ""))
    return 0
