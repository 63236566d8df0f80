"""Baseline for bench_crawl.py: plain Scrapy, no darkcrawl component, no pipeline, following every link of one site.

``python bench/bare_spider.py URL --concurrency N [--socks HOST:PORT]`` prints one JSON line: pages, seconds, pages/s.
With ``--socks`` it goes through Tor with the same httpx handler darkcrawl uses (so Tor's cost can be told apart from
darkcrawl's own stages); without, it uses Scrapy's default handler directly on loopback.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start_url: str, proxy: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.start_url = start_url
        self.host = urlsplit(start_url).hostname
        self.proxy = proxy
        self.pages = 0

    def _request(self, url: str) -> scrapy.Request:
        meta = {"proxy": self.proxy} if self.proxy else {}
        return scrapy.Request(url, callback=self.parse, meta=meta)

    async def start(self) -> Any:
        yield self._request(self.start_url)

    def parse(self, response: Any, **kwargs: Any) -> Any:
        self.pages += 1
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if urlsplit(url).hostname == self.host:
                yield self._request(url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--socks", help="Tor SOCKS host:port")
    args = parser.parse_args()
    settings: dict[str, Any] = {
        "LOG_LEVEL": "WARNING",
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "TELNETCONSOLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
    }
    proxy = None
    if args.socks:
        handler = "scrapy.core.downloader.handlers._httpx.HttpxDownloadHandler"
        settings["DOWNLOAD_HANDLERS"] = {"http": handler, "https": handler}
        proxy = f"socks5h://bench:x@{args.socks}"
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    started = time.monotonic()
    process.crawl(crawler, start_url=args.url, proxy=proxy)
    process.start()
    elapsed = time.monotonic() - started
    pages = crawler.spider.pages if crawler.spider else 0
    print(json.dumps({"pages": pages, "seconds": round(elapsed, 2), "pages_per_s": round(pages / elapsed, 1)}))


if __name__ == "__main__":
    main()
