"""Benchmark of indexing: darkcrawl's page sink (pages, sightings, entity roll-up) against raw bulk on the same node.

Run: ``.venv/bin/python bench/bench_index.py [--pages 2000] [--repeat 2] [--sweep] [--plain-mapping] [--json]`` with
the usual ``DARKCRAWL_ES_*`` settings (default: the managed node). Each measured run uses a fresh index prefix
(templates and indices made by ``init_schema``, deleted afterwards). ``--plain-mapping`` indexes the page text
without the analysis plugin's language and folded sub-fields, to measure what they cost.

The documents are real page documents: every page of the lab's fixture sites and of ``bigmarket`` (2,000+ listing,
product and vendor pages), run through the extraction stage (signals, language, text) exactly as a crawl does, then
turned into index documents. Measured, in one run, on the same documents:

* ``raw``: ``helpers.async_streaming_bulk`` of the pages-only documents (``index`` operations, same chunk size);
* ``sink pages``: :class:`crawler.sink.bulk.PageSink` without entities (mget of content hashes, update + upsert);
* ``sink full``: the sink as a crawl runs it: pages, one sighting per (entity, page), entities rolled up.

Reported: docs/s and MB/s of page JSON (wall clock, until the last flush returned, best run), docs per CPU second of
Elasticsearch plus this client (``_nodes/stats/process`` and ``time.process_time``, median run: the fair figure on a
shared machine), the sink/raw ratios of both, the CPU cost of entity updates per page, and with ``--sweep`` the full
sink at several batch sizes and pages refresh intervals.
Results go in docs/performance.md ("Indexing").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from elasticsearch.helpers import async_streaming_bulk

from crawler.config import load_settings
from crawler.es.client import es_client, es_sync_client
from crawler.es.schema import IndexNames, init_schema
from crawler.es.templates import KINDS
from crawler.identity import page_id
from crawler.items import PageItem
from crawler.lab.sites import ALL_SITE_NAMES, build_pages
from crawler.sink.bulk import BulkConfig, PageSink
from crawler.sink.documents import page_document
from crawler.sink.rollup import EntityRollup
from pipelines.extract import default_config, extract_signals
from pipelines.extraction import fill_item


def corpus(limit: int) -> list[dict[str, Any]]:
    """Page documents of the fixture sites (small sites first, then bigmarket), through the extraction stage."""
    config = default_config()
    documents: list[dict[str, Any]] = []
    for name in ALL_SITE_NAMES:
        host = f"{name}.bench.onion"
        for path, built in build_pages(name).items():
            page = built.page
            if not page.content_type.startswith(("text/html", "text/plain")):
                continue
            url = f"http://{host}{path}"
            item = PageItem(url=url, canonical_url=url, site=host, status=page.status,
                            fetched_at="2026-11-29T00:00:00.000Z", crawl_id="bench", content_type=page.content_type,
                            content_length=len(page.body), html=page.body.decode("utf-8", "replace"))
            signals = extract_signals(item.html, url, content_type=page.content_type, config=config)
            documents.append(page_document(fill_item(item, signals)))
            if len(documents) >= limit:
                return documents
    return documents


PLAIN_MAPPING = False  # --plain-mapping: no language or folded sub-fields even when the node has the plugin


def fresh_names(settings: Any) -> IndexNames:
    names = IndexNames(f"bench-{uuid.uuid4().hex[:8]}")
    client = es_sync_client(settings)
    try:
        init_schema(client, names, lambda message: None, language_analyzers=False if PLAIN_MAPPING else None)
    finally:
        client.close()
    return names


def drop(settings: Any, names: IndexNames) -> None:
    client = es_sync_client(settings)
    try:
        for index in client.indices.get(index=f"{names.prefix}-*"):
            client.indices.delete(index=index)
        for kind in KINDS:  # every template init_schema installed
            client.indices.delete_index_template(name=names.template(kind))
    finally:
        client.close()


def set_refresh(settings: Any, index: str, interval: str) -> None:
    client = es_sync_client(settings)
    try:
        client.indices.put_settings(index=index, settings={"index.refresh_interval": interval})
    finally:
        client.close()


async def run_raw(settings: Any, names: IndexNames, documents: list[dict[str, Any]], chunk: int) -> float:
    client = es_client(settings)
    now = "2026-11-29T00:00:00.000Z"
    actions = (
        {"_op_type": "index", "_index": names.pages, "_id": page_id(document["url"]),
         "_source": document | {"first_seen": now, "last_seen": now, "content_changed_at": now}}
        for document in documents
    )
    started = time.perf_counter()
    try:
        async for ok, result in async_streaming_bulk(client, actions, chunk_size=chunk, raise_on_error=False):
            if not ok:
                raise RuntimeError(f"raw bulk refused a document: {result}")
        return time.perf_counter() - started
    finally:
        await client.close()


async def run_sink(
    settings: Any, names: IndexNames, documents: list[dict[str, Any]], chunk: int, entities: bool
) -> tuple[float, dict[str, int]]:
    client = es_client(settings)
    counts: dict[str, int] = {}
    config = BulkConfig(max_docs=chunk, max_bytes=50 * 1024 * 1024, flush_interval=3600, max_retries=3,
                        dead_letter_path=Path("/tmp") / f"{names.prefix}-dead-letter.jsonl")
    rollup = EntityRollup(client, names.sightings, names.entities) if entities else None
    sink = PageSink(client, names.pages, config, lambda key, n: counts.__setitem__(key, counts.get(key, 0) + n),
                    rollup=rollup)
    started = time.perf_counter()
    try:
        for document in documents:
            await sink.add(document)
        await sink.flush()
        elapsed = time.perf_counter() - started
    finally:
        await client.close()
    if counts.get("darkcrawl/index/indexed") != len(documents):
        raise RuntimeError(f"the sink indexed {counts.get('darkcrawl/index/indexed')} of {len(documents)}: {counts}")
    return elapsed, counts


def count(settings: Any, index: str) -> int:
    client = es_sync_client(settings)
    try:
        client.indices.refresh(index=index)
        return int(client.count(index=index)["count"])
    finally:
        client.close()


def node_cpu_ms(settings: Any) -> int:
    """CPU time the cluster's processes used so far (``_nodes/stats/process``), in milliseconds."""
    client = es_sync_client(settings)
    try:
        nodes = client.nodes.stats(metric="process")["nodes"].values()
        return sum(int(node["process"]["cpu"]["total_in_millis"]) for node in nodes)
    finally:
        client.close()


def measure(settings: Any, mode: str, documents: list[dict[str, Any]], chunk: int,
            refresh: str | None = None) -> dict[str, Any]:
    """One run on fresh indices: wall seconds, and CPU seconds of Elasticsearch plus this client (the fair figure
    on a machine shared with other work: wall time there depends on everyone else)."""
    names = fresh_names(settings)
    try:
        if refresh:
            set_refresh(settings, names.pages, refresh)
        result: dict[str, Any] = {"mode": mode, "batch": chunk, "refresh": refresh or "template"}
        node_before, client_before = node_cpu_ms(settings), time.process_time()
        if mode == "raw":
            result["seconds"] = asyncio.run(run_raw(settings, names, documents, chunk))
        else:
            elapsed, _counts = asyncio.run(run_sink(settings, names, documents, chunk, entities=mode == "sink full"))
            result["seconds"] = elapsed
        result["client_cpu"] = time.process_time() - client_before
        result["node_cpu"] = (node_cpu_ms(settings) - node_before) / 1000
        result["cpu"] = result["client_cpu"] + result["node_cpu"]
        if mode == "sink full":
            result["sightings"] = count(settings, names.sightings)
            result["entities"] = count(settings, names.entities)
        return result
    finally:
        drop(settings, names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=100_000, help="page documents at most (default: all, ~2,250)")
    parser.add_argument("--batch", type=int, default=500, help="bulk batch size (default 500, the setting's)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of raw / sink pages / sink full (default 2)")
    parser.add_argument("--sweep", action="store_true", help="also the full sink at other batch sizes and refreshes")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--plain-mapping", action="store_true",
                        help="page text without the analysis plugin's sub-fields (to measure what they cost)")
    args = parser.parse_args()
    global PLAIN_MAPPING
    PLAIN_MAPPING = args.plain_mapping

    settings = load_settings()
    started = time.perf_counter()
    documents = corpus(args.pages)
    megabytes = sum(len(json.dumps(document, ensure_ascii=False)) for document in documents) / 1e6
    print(f"{len(documents)} page documents, {megabytes:.1f} MB of JSON, built in {time.perf_counter() - started:.0f}s",
          file=sys.stderr)
    runs: list[dict[str, Any]] = []
    for _round in range(args.repeat):
        for mode in ("raw", "sink pages", "sink full"):
            runs.append(measure(settings, mode, documents, args.batch))
            print(f"  {runs[-1]}", file=sys.stderr)
    if args.sweep:
        for batch in (100, 250, 1000):
            runs.append(measure(settings, "sink full", documents, batch))
            print(f"  {runs[-1]}", file=sys.stderr)
        for refresh in ("1s", "30s"):
            runs.append(measure(settings, "sink full", documents, args.batch, refresh))
            print(f"  {runs[-1]}", file=sys.stderr)

    def best(mode: str, key: str = "seconds", batch: int = args.batch, refresh: str = "template") -> float:
        return min(run[key] for run in runs if run["mode"] == mode and run["batch"] == batch
                   and run["refresh"] == refresh)

    def median(mode: str, key: str) -> float:
        return statistics.median(run[key] for run in runs if run["mode"] == mode and run["batch"] == args.batch
                                 and run["refresh"] == "template")

    raw, pages, full = best("raw"), best("sink pages"), best("sink full")
    cpu = {mode: median(mode, "cpu") for mode in ("raw", "sink pages", "sink full")}
    summary = {
        "documents": len(documents),
        "megabytes": round(megabytes, 2),
        "batch": args.batch,
        "docs_per_second": {mode: round(len(documents) / seconds) for mode, seconds in
                            (("raw", raw), ("sink pages", pages), ("sink full", full))},
        "mb_per_second": {mode: round(megabytes / seconds, 2) for mode, seconds in
                          (("raw", raw), ("sink pages", pages), ("sink full", full))},
        "ratio_sink_pages_to_raw": round(raw / pages, 2),
        "ratio_sink_full_to_raw": round(raw / full, 2),
        "docs_per_cpu_second": {mode: round(len(documents) / seconds) for mode, seconds in cpu.items()},
        "cpu_ratio_sink_pages_to_raw": round(cpu["raw"] / cpu["sink pages"], 2),
        "cpu_ratio_sink_full_to_raw": round(cpu["raw"] / cpu["sink full"], 2),
        "entity_cost_cpu_ms_per_page": round((cpu["sink full"] - cpu["sink pages"]) / len(documents) * 1000, 2),
        "node_cpu_share": {mode: round(median(mode, "node_cpu") / cpu[mode], 2) for mode in cpu},
        "sightings": next(run["sightings"] for run in runs if run["mode"] == "sink full"),
        "entities": next(run["entities"] for run in runs if run["mode"] == "sink full"),
        "spread_seconds": {mode: [round(run["seconds"], 2) for run in runs if run["mode"] == mode
                                  and run["batch"] == args.batch and run["refresh"] == "template"]
                           for mode in ("raw", "sink pages", "sink full")},
        "sweep": [{"batch": run["batch"], "refresh": run["refresh"],
                   "docs_per_second": round(len(documents) / run["seconds"]),
                   "docs_per_cpu_second": round(len(documents) / run["cpu"])}
                  for run in runs if run["mode"] == "sink full" and (run["batch"] != args.batch
                                                                     or run["refresh"] != "template")],
        "median_full_seconds": round(statistics.median(
            run["seconds"] for run in runs if run["mode"] == "sink full" and run["batch"] == args.batch
            and run["refresh"] == "template"), 2),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
