"""``darkcrawl es install|start|stop|status|init``: the managed Elasticsearch node and the index setup.

Documented in docs/schema.md. With ``DARKCRAWL_ES_URL`` set, darkcrawl uses that cluster: ``start`` and ``stop`` only
say so (nothing is started or stopped), ``status`` and ``init`` talk to it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from crawler.cli.common import print_answer
from crawler.errors import DarkcrawlError
from crawler.redact import mask_data, mask_url, secret_values


def say(message: str) -> None:
    print(message, flush=True)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "es",
        help="the managed Elasticsearch node and the index templates",
        description="Install, start, stop and inspect the managed Elasticsearch node; install the index templates.",
    )
    actions = parser.add_subparsers(dest="es_action", metavar="ACTION")
    actions.required = True
    install = actions.add_parser("install", help="fetch Elasticsearch from Maven Central, create its user (setup.sh)")
    install.set_defaults(handler=run_install)
    start = actions.add_parser("start", help="start the managed node and wait until it is healthy")
    start.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for health (default 180)")
    start.set_defaults(handler=run_start)
    stop = actions.add_parser("stop", help="stop the managed node")
    stop.set_defaults(handler=run_stop)
    status = actions.add_parser("status", help="say whether Elasticsearch is up (exit 0) or not (exit 1)")
    status.add_argument("--json", action="store_true", help="print the status as a JSON object")
    status.set_defaults(handler=run_status)
    replay = actions.add_parser("replay", help="index the pages spooled while Elasticsearch was unreachable")
    replay.set_defaults(handler=run_replay)
    init = actions.add_parser("init", help="install or upgrade the index templates and create the first indices")
    init.add_argument("--prefix", help="index prefix (default: DARKCRAWL_ES_INDEX_PREFIX)")
    init.set_defaults(handler=run_init)


def external_url(settings: Any) -> str:
    """``DARKCRAWL_ES_URL``, empty for the managed node. Masked (:func:`crawler.redact.mask_url`) before printing."""
    return str(settings.get("DARKCRAWL_ES_URL") or "")


def shown_url(settings: Any) -> str:
    return mask_url(external_url(settings))


def run_install(args: argparse.Namespace, settings: Any) -> int:
    from crawler.es.install import install
    from crawler.es.node import NodeInstance, prepare

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


def run_start(args: argparse.Namespace, settings: Any) -> int:
    if external_url(settings):
        version = _check_cluster(settings)
        say(f"DARKCRAWL_ES_URL names an external cluster: nothing started; Elasticsearch {version} answers there")
        return 0
    from crawler.es.node import NodeInstance, start

    node = start(NodeInstance.from_settings(settings), say, timeout=args.timeout)
    took = node.details.get("startup_seconds")
    suffix = f" (started in {took}s)" if took is not None else ""
    say(f"Elasticsearch {node.version or ''} is up at {node.url}{suffix}".replace("  ", " "))
    return 0


def run_stop(args: argparse.Namespace, settings: Any) -> int:
    if external_url(settings):
        say(f"DARKCRAWL_ES_URL names an external cluster ({shown_url(settings)}): darkcrawl stops nothing")
        return 0
    from crawler.es.node import NodeInstance, stop

    instance = NodeInstance.from_settings(settings)
    say("Elasticsearch stopped" if stop(instance) else f"Elasticsearch was not running ({instance.url})")
    return 0


def status_report(settings: Any) -> dict[str, Any]:
    """What ``es status --json`` prints (also read by ``darkcrawl status``): up, healthy, URL, version, spool."""
    if external_url(settings):
        url = shown_url(settings)
        try:
            version = _check_cluster(settings)
            report: dict[str, Any] = {
                "running": True, "healthy": True, "url": url, "managed": False, "version": version,
                "message": f"external Elasticsearch {version} is up at {url}",
            }
        except DarkcrawlError as exc:
            report = {"running": False, "healthy": False, "url": url, "managed": False, "message": str(exc)}
    else:
        from crawler.es.node import NodeInstance, status

        report = status(NodeInstance.from_settings(settings)).to_json() | {"managed": True}
        if report["healthy"]:
            # the node answers its own credentials file; what darkcrawl uses may be other credentials
            try:
                _check_cluster(settings)
            except DarkcrawlError as exc:
                report |= {"healthy": False, "message": f"{report['message']}, but {exc}"}
    from crawler.sink.bulk import spool_from_settings
    from crawler.sink.crawlrecord import crawl_spool

    spool = spool_from_settings(settings)
    crawls = crawl_spool(settings)
    report["spool"] = {"path": str(spool.path), "pages": spool.count(), "bytes": spool.size_bytes(),
                       "crawl_records": crawls.count()}
    return dict(mask_data(report, secret_values(settings)))


def run_status(args: argparse.Namespace, settings: Any) -> int:
    from crawler.sink.bulk import spool_from_settings
    from crawler.sink.crawlrecord import crawl_spool

    report = status_report(settings)
    spool = spool_from_settings(settings)
    crawls = crawl_spool(settings)
    if args.json:
        print_answer(True, report, lambda: "")
    else:
        print(report["message"], file=sys.stdout if report["healthy"] else sys.stderr)
        if report["spool"]["pages"]:
            print(f"spool: {report['spool']['pages']} pages waiting in {spool.path} (darkcrawl es replay)")
        if report["spool"]["crawl_records"]:
            print(f"spool: {report['spool']['crawl_records']} crawl records waiting in {crawls.path} "
                  "(darkcrawl es replay)")
    return 0 if report["healthy"] else 1


def run_init(args: argparse.Namespace, settings: Any) -> int:
    from crawler.es.schema import ensure_indices, index_names

    if args.prefix:
        settings.set("DARKCRAWL_ES_INDEX_PREFIX", args.prefix, priority="cmdline")
    report = ensure_indices(settings, say)
    names = index_names(settings)
    say(f"index setup {'done' if report.changed else 'unchanged'}: aliases {names.pages}, {names.entities}, "
        f"{names.crawls}")
    return 0


def _check_cluster(settings: Any) -> str:
    """The version of the configured cluster, asked with the credentials darkcrawl uses; raises
    :class:`DarkcrawlError` (unreachable, credentials refused (401), privileges missing (403), not 9.x)."""
    from crawler.es.client import check_connection, connection_options, es_sync_client

    client = es_sync_client(settings)
    try:
        return check_connection(client, connection_options(settings).url)
    finally:
        client.close()


def run_replay(args: argparse.Namespace, settings: Any) -> int:
    """Index the spooled pages now (a crawl also does it when it starts); they stay spooled if this fails."""
    import asyncio

    from crawler.es.client import client_url, es_client, service_error
    from crawler.es.schema import ensure_indices, index_names
    from crawler.paths import data_dir
    from crawler.sink.bulk import replay_spool, sink_from_settings, spool_from_settings
    from crawler.sink.crawlrecord import crawl_spool, replay_crawl_spool

    spool = spool_from_settings(settings)
    crawls = crawl_spool(settings)
    waiting = spool.count()
    if not waiting and not crawls.count():
        say(f"spool {spool.path}: empty, nothing to replay")
        return 0
    ensure_indices(settings, say)
    counts: dict[str, int] = {}

    async def replay() -> int:
        client = es_client(settings)
        sink = sink_from_settings(
            settings, client, lambda key, count: counts.__setitem__(key, counts.get(key, 0) + count), spool
        )
        try:
            records = await replay_crawl_spool(
                client, index_names(settings).crawls, crawls, data_dir(settings) / "dead-letter" / "crawls.jsonl"
            )
            if records:
                say(f"replayed {records} spooled crawl records")
            return await replay_spool(sink)
        except Exception as exc:
            raise service_error(exc, client_url(client)) from None
        finally:
            await client.close()

    replayed = asyncio.run(replay())
    failed = counts.get("darkcrawl/index/failed", 0)
    say(f"replayed {replayed} spooled pages: {counts.get('darkcrawl/index/indexed', 0)} indexed, {failed} rejected"
        + (" (see the dead-letter file)" if failed else ""))
    return 0
