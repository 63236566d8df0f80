"""What the crawl process spends reading one page's markup, before and after the one-parse change (issue #16).

Run: ``.venv/bin/python bench/bench_page_parse.py --base DIR [--pages 300]`` where DIR holds the code before the change
(``git archive <commit> | tar -x -C DIR``). On bench_extract's corpus, per page, CPU time of the crawl process:

* before: the content policy's parse (the old ``parse_document``), the spider's parsel/lxml parse with its links and
  canonical URL, and pickling the markup for the extraction worker;
* after: the one parse (:func:`crawler.fetch.parsed.parsed_response`), the spider's links and canonical URL from it,
  the vendor rules on its tree, and pickling the extraction product for the worker;

and the worker's share (``extract_signals`` on the markup before, on the product after). Both in this process, one
after the other, pages interleaved so that load changes touch both alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(1, str(ROOT))

from bench_extract import build_corpus  # noqa: E402
from scrapy import Request  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from crawler.fetch.parsed import parsed_response  # noqa: E402
from pipelines.extract import default_config, extract_signals  # noqa: E402
from pipelines.extract.vendors import rule_vendor_values  # noqa: E402
from spiders.onion import absolute_links, canonical_url  # noqa: E402


def _load(name: str, path: Path, package: str | None = None) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    if package:
        module.__package__ = package
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the code before the change")
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args(argv)
    old = _load("old_onion_spider", args.base / "spiders" / "onion.py")
    old_text = _load("pipelines.extract.old_text", args.base / "pipelines" / "extract" / "text.py", "pipelines.extract")
    config = default_config()
    content_type = "text/html; charset=utf-8"
    crawl = {"before": 0.0, "after": 0.0}
    worker = {"before": 0.0, "after": 0.0}
    clock = time.process_time
    for number, body in enumerate(build_corpus(args.pages, 7)):
        url = f"http://bench.example/page/{number}"

        def response(body: bytes = body, url: str = url) -> HtmlResponse:
            return HtmlResponse(url, body=body, headers={"Content-Type": content_type}, request=Request(url))

        before_response, after_response = response(), response()
        started = clock()
        html = old.response_html(before_response)
        old_text.parse_document(html, url, content_type)  # the content policy
        selector = old.page_selector(before_response)
        old.absolute_links(before_response, selector), old.canonical_url(before_response, selector)
        task = pickle.dumps((html, url, content_type))
        crawl["before"] += clock() - started
        started = clock()
        extract_signals(pickle.loads(task)[0], url, content_type=content_type, config=config)
        worker["before"] += clock() - started

        started = clock()
        parsed = parsed_response(after_response)
        absolute_links(after_response, parsed), canonical_url(after_response, parsed)
        values = rule_vendor_values(config.vendor_rules, url=url, tree=parsed.tree, html=parsed.html,
                                    generator=parsed.generator)  # fmt: skip
        task = pickle.dumps((parsed.for_extraction(values), url, content_type))
        crawl["after"] += clock() - started
        started = clock()
        extract_signals(pickle.loads(task)[0], url, content_type=content_type, config=config)
        worker["after"] += clock() - started
    pages = args.pages
    for when in ("before", "after"):
        print(f"{when}: crawl process {crawl[when] / pages * 1000:.2f} ms a page, extraction worker "
              f"{worker[when] / pages * 1000:.2f} ms a page ({pages / worker[when]:.0f} pages per CPU second), "
              f"together {(crawl[when] + worker[when]) / pages * 1000:.2f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
