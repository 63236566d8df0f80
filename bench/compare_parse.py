"""Check that the one-parse crawl reads every page as before: links, canonical URL and JavaScript-gate verdict.

Run: ``.venv/bin/python bench/compare_parse.py --base DIR`` where DIR holds the code before the change (e.g.
``git archive <commit> | tar -x -C DIR``). For each page of several corpora (bench_extract's market pages, the lab's
fixture sites, tests/hostile.py's patterns, hand-written edge cases) it compares the spider's links and canonical
URL (before: parsel/lxml in the spider; after: the page's one selectolax parse) and the render gate's verdict
(before: its own parse; after: the same one parse). Prints the counts and every page that differs.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(1, str(ROOT))

from bench_extract import build_corpus  # noqa: E402
from scrapy import Request  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from crawler.fetch.parsed import parsed_response  # noqa: E402
from crawler.lab.sites import ALL_SITE_NAMES, build_site  # noqa: E402
from crawler.lab.special import jsgate  # noqa: E402
from crawler.render.gate import MAX_SCANNED, gate_reason  # noqa: E402
from spiders.onion import absolute_links, canonical_url  # noqa: E402
from tests import hostile  # noqa: E402

HOST = "http://pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
EDGE_CASES = [
    '<a href="/a">x</a><template><a href="/in-template">t</a></template>',
    '<noscript><a href="/ns">n</a></noscript><a href=/b>b</a>',
    '<html><head></head><body><base href="/sub/"><a href="rel">r</a></body></html>',
    '<head><base href="http://other.example/x/"><link rel="CANONICAL" href="/c1"><link rel="canonical" href="/c2">'
    '</head><a href="y">y</a>',
    '<link rel="canonical"><link rel="canonical" href=""><a href="  /spaced  ">s</a><a href>empty</a>',
    '<a href="/q?a=1&amp;b=2&lt;p&gt;#frag">e</a><a href="/x?q=<div>z">raw</a><area href="/area">',
    '<a href="javascript:void(0)">j</a><a href="mailto:a@b">m</a><a href="data:x">d</a><a href="#top">t</a>',
    '<a href="http://[broken">b</a><a href="HTTPS://Example.COM/Path">u</a><a href="//proto.example/rel">p</a>',
    '<svg><a href="/svg-link">s</a></svg><iframe><a href="/in-iframe">i</a></iframe><textarea><a href="/ta">',
    "<table><a href='/in-table'>t</a><tr><td><a href=/cell>c</a></td></tr></table>",
    "<body><script>var a='<a href=\"/in-script\">';</script><p>Please enable JavaScript</p></body>",
    "<body><noscript>This site requires JavaScript to work.</noscript><div id=app></div></body>",
    "<head><script src=app.js></script></head><body><div id=root></div></body>",
    "<body>foo</div>bar<iframe>fallback <p>text</p></iframe><noscript>enable js</noscript></body>",
    "<body><textarea>a<p>b</textarea><script>x</script></body>",
]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages() -> Iterator[tuple[str, str, bytes, str]]:
    """(corpus, URL, body, Content-Type) of every page compared."""
    for number, body in enumerate(build_corpus(300, 7)):
        yield "bench", f"{HOST}/page/{number}", body, "text/html; charset=utf-8"
    for name in ALL_SITE_NAMES:
        for path, page in build_site(name).pages.items():
            yield f"lab:{name}", f"{HOST}{path}", page.body, page.content_type
    for function in (jsgate.index_page, jsgate.js_page, jsgate.gate_page):
        yield "lab:jsgate", f"{HOST}/{function.__name__}", function(), "text/html"
    for name in hostile.PATTERNS:
        for size in (3_000, 100_000):
            yield "hostile", f"{HOST}/{name}", hostile.build(name, size).encode("utf-8", "surrogatepass"), "text/html"
    for number, html in enumerate(EDGE_CASES):
        yield "edge", f"{HOST}/dir/edge{number}", html.encode(), "text/html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the code before the change")
    args = parser.parse_args(argv)
    old_spider = _load("old_onion_spider", args.base / "spiders" / "onion.py")
    old_gate = _load("old_render_gate", args.base / "crawler" / "render" / "gate.py")
    counts: dict[str, list[int]] = {}
    for corpus, url, body, content_type in pages():
        tally = counts.setdefault(corpus, [0, 0, 0, 0])
        tally[0] += 1

        def response(body: bytes = body, url: str = url, content_type: str = content_type) -> HtmlResponse:
            return HtmlResponse(url, body=body, headers={"Content-Type": content_type}, request=Request(url))

        before = old_spider.absolute_links(response()), old_spider.canonical_url(response())
        fresh = response()
        gate_after = gate_reason(parsed_response(fresh, gate_up_to=MAX_SCANNED).gate)
        after = absolute_links(fresh), canonical_url(fresh)
        gate_before = old_gate.js_gate_reason(old_spider.response_html(response()))
        if set(before[0]) != set(after[0]):
            tally[1] += 1
            print(f"{corpus} {url}: links differ: only before {sorted(set(before[0]) - set(after[0]))[:5]}, "
                  f"only after {sorted(set(after[0]) - set(before[0]))[:5]}")  # fmt: skip
        elif before[0] != after[0]:
            print(f"{corpus} {url}: same links, other order")
        if before[1] != after[1]:
            tally[2] += 1
            print(f"{corpus} {url}: canonical {before[1]} -> {after[1]}")
        if gate_before != gate_after:
            tally[3] += 1
            print(f"{corpus} {url}: gate {gate_before} -> {gate_after}")
    for corpus, (total, links, canonical, gate) in counts.items():
        print(f"{corpus}: {total} pages; links differ on {links}, canonical on {canonical}, gate verdict on {gate}")
    return 1 if any(sum(tally[1:]) for tally in counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
