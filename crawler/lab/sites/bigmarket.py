"""The ``bigmarket`` benchmark site: a large market (2,000+ pages by default) for the crawl benchmark (bench/).

Generated from a fixed seed, so every build is the same bytes. Layout, all within depth 3 of ``/``: the home page links
every category; each category's first page (``/c/<slug>``) links all of that category's listing pages
(``/c/<slug>/page/<n>``); listing pages link their products (``/product/<id>``); products link their vendor
(``/vendor/<name>``, which also hangs off ``/vendors``). Product pages are 10-60 KB of English text (description and
buyer reviews), as on real markets. Not served by the lab unless asked (:data:`crawler.lab.sites.BENCH_SITE_NAMES`).
Offers :func:`build_bigmarket`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from html import escape

from .keys import KEYS
from .model import Built, Doc, Page, html_page

SEED = 20260301
NAME = "Bazaar Abyss"
SOFTWARE = "ShadowStall 2.4.1"

# Valid mainnet addresses from the official vectors (bitcoin.json, monero.json), handed out to vendors in turn.
BTC_POOL = (
    "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", "36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm", "1FjL87pn8ky6Vbavd1ZHeChRXtoxwRGCRd",
    "3BZECeAH8gSKkjrTx8PwMrNQBLG18yHpvf", "1G9A9j6W8TLuh6dEeVwWeyibK1Uc5MfVFV", "33GA3ZXbw5o5HeUrBEaqkWXFYYZmdxGRRP",
    "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", "bc1qhxt04s5xnpy0kxw4x99n5hpdf5pmtzpqs52es2",
    "bc1p83n3au0rjylefxq2nc2xh2y4jzz4pm6zxj4mw5pagdjjr2a9f36s6jjnnu",
    "bc1pve739yap4uxjvfk0jrey69078u0gasm2nwvv483ec6zkzulgw9xqu4w9fd",
    "bc1q2ddhp55sq2l4xnqhpdv0xazg02v9dr7uu8c2p2", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
)  # fmt: skip
XMR_POOL = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
    "4ADT1BtbxqEWeMKp9GgPr2NeyJXXtNxvoDawpyA4WpzFcGcoHUvXeijE66DNfohE9r1bQYaBiQjEtKE7CtkTdLwiDznFzra",
    "47ewoP19TN7JEEnFKUJHAYhGxkeTRH82sf36giEp9AcNfDBfkAtRLX7A6rZz18bbNHPNV7ex6WYbMN3aKisFRJZ8Ebsmgef",
    "43aeKax1ts4BoEbSyzKVbbDRmc8nsnpZLUpQBYvhUxs3KVrodnaFaBEQMDp69u4VaiEG3LSQXA6M61mXPrztCLuh7PFUAmd",
)

_NOUNS = (
    "order", "package", "vendor", "account", "licence", "guide", "delivery", "escrow", "key", "message", "price",
    "quality", "service", "support", "update", "refund", "reship", "tracking", "stealth", "listing", "market",
    "wallet", "deposit", "review", "customer", "product", "download", "file", "code", "batch",
)  # fmt: skip
_ADJECTIVES = (
    "fast", "slow", "honest", "reliable", "careful", "friendly", "clean", "perfect", "decent", "quick", "smooth",
    "professional", "solid", "excellent", "average", "late", "great", "good", "fair", "cheap",
)  # fmt: skip
_VERBS = (
    "arrived", "worked", "came", "shipped", "answered", "helped", "delivered", "responded", "matched", "looked",
)
_TEMPLATES = (
    "The {n} {v} on time and the {n2} was {a}.",
    "Very {a} {n}, the {n2} {v} exactly as described.",
    "Second {n} from this vendor and the {n2} was {a} again.",
    "I was worried about the {n} but it {v} and the {n2} was {a}.",
    "{A} {n}, {a2} {n2}, would order again.",
    "Communication was {a} and the {n} {v} within two days.",
    "The {n2} could be better, but the {n} itself was {a}.",
    "Everything {v} as promised and the {n} was {a}.",
)


def _sentences(rng: random.Random, count: int) -> list[str]:
    pool = []
    for _ in range(count):
        adjective = rng.choice(_ADJECTIVES)
        pool.append(rng.choice(_TEMPLATES).format(
            n=rng.choice(_NOUNS), n2=rng.choice(_NOUNS), v=rng.choice(_VERBS), a=adjective,
            A=adjective.capitalize(), a2=rng.choice(_ADJECTIVES),
        ))
    return pool


class _Big:
    def __init__(self, hosts: Mapping[str, str], products: int, categories: int, vendors: int, per_page: int):
        rng = random.Random(SEED)
        self.hosts = hosts
        self.pool = _sentences(rng, 600)
        self.per_page = per_page
        self.categories = [f"category-{n:02d}" for n in range(1, categories + 1)]
        self.vendors = [f"vendor{n:03d}" for n in range(1, vendors + 1)]
        self.products = list(range(1, products + 1))
        self.keys = list(KEYS.values())

    def category_of(self, product: int) -> str:
        return self.categories[(product - 1) % len(self.categories)]

    def vendor_of(self, product: int) -> str:
        return self.vendors[(product * 7) % len(self.vendors)]

    def in_category(self, slug: str) -> list[int]:
        return [p for p in self.products if self.category_of(p) == slug]

    def pages_of(self, slug: str) -> int:
        return max(1, (len(self.in_category(slug)) + self.per_page - 1) // self.per_page)

    def page(self, doc: Doc, title: str, main: str) -> Page:
        nav = '<a href="/">Home</a> | <a href="/vendors">Vendors</a>'
        head = f'<meta name="generator" content="{SOFTWARE}">\n'
        body = f"<header><h1>{NAME}</h1><nav>{nav}</nav></header>\n<main><h2>{escape(title)}</h2>\n{main}\n</main>"
        return Page(html_page("en", f"{title} | {NAME}", body, head=head))

    def paragraph(self, rng: random.Random, sentences: int) -> str:
        return " ".join(rng.choice(self.pool) for _ in range(sentences))

    def home(self) -> Built:
        doc = Doc("en")
        items = "\n".join(
            f'<li><a href="/c/{slug}">{slug.replace("-", " ").title()}</a></li>' for slug in self.categories
        )
        main = (
            f"<p>Welcome to {NAME}. Browse the categories below; every listing is paid through escrow. "
            f"The market lists {len(self.products)} items from {len(self.vendors)} vendors.</p>\n<ul>\n{items}\n</ul>"
        )
        return Built(self.page(doc, "Home", main), doc.truth)

    def listing(self, slug: str, number: int) -> Built:
        doc = Doc("en")
        rng = random.Random(f"{SEED}:{slug}:{number}")
        items = self.in_category(slug)[(number - 1) * self.per_page:number * self.per_page]
        rows = "\n".join(
            f'<tr><td><a href="/product/{p}">Item {p}</a><br><small>{escape(self.paragraph(rng, 4))}</small></td>'
            f"<td>{doc.vendor_link(self.vendor_of(p))}</td><td>{rng.randint(5, 500)}.00 EUR</td></tr>"
            for p in items
        )
        pager = ""
        if number == 1:
            pager = "<p>Pages: " + " ".join(
                f'<a href="/c/{slug}/page/{n}">{n}</a>' for n in range(2, self.pages_of(slug) + 1)
            ) + "</p>"
        main = f'<table class="listings">\n{rows}\n</table>\n{pager}'
        return Built(self.page(doc, f"{slug} page {number}", main), doc.truth)

    def product(self, product: int) -> Built:
        doc = Doc("en")
        rng = random.Random(f"{SEED}:product:{product}")
        target = rng.randint(10_200, 59_000)
        description = "".join(f"<p>{escape(self.paragraph(rng, 6))}</p>\n" for _ in range(4))
        parts = [
            f'<p class="sold-by">Sold by {doc.vendor_link(self.vendor_of(product))}</p>\n'
            f'<p>Category: <a href="/c/{self.category_of(product)}">{self.category_of(product)}</a></p>\n'
            f'<div class="description">{description}</div>\n<h3>Reviews</h3>\n'
        ]
        size = len(parts[0]) + 400  # plus the page chrome, about 550 bytes
        while size < target:
            review = (
                f'<div class="review"><b>b{rng.randint(100, 999)}***</b> <i>5/5</i> '
                f"<p>{escape(self.paragraph(rng, rng.randint(2, 6)))}</p></div>\n"
            )
            parts.append(review)
            size += len(review)
        return Built(self.page(doc, f"Item {product}", "".join(parts)), doc.truth)

    def vendor_list(self) -> Built:
        doc = Doc("en")
        items = "\n".join(f"<li>{doc.vendor_link(name)}</li>" for name in self.vendors)
        main = f"<p>All vendors of {NAME}, by name. Read the feedback before you order.</p>\n<ul>\n{items}\n</ul>"
        return Built(self.page(doc, "Vendors", main), doc.truth)

    def vendor(self, index: int, name: str) -> Built:
        doc = Doc("en")
        rng = random.Random(f"{SEED}:vendor:{name}")
        doc.vendor(name)
        btc = BTC_POOL[index % len(BTC_POOL)]
        xmr = XMR_POOL[index % len(XMR_POOL)]
        main = (
            f'<h3 class="vendor-name">{name}</h3>\n<p>{escape(self.paragraph(rng, 8))}</p>\n'
            f"<p>Direct deals: BTC <code>{doc.address('BTC', btc)}</code> / "
            f"XMR <code>{doc.address('XMR', xmr)}</code></p>\n"
            f"{doc.pgp(self.keys[index % len(self.keys)])}"
        )
        return Built(self.page(doc, name, main), doc.truth)


def build_bigmarket(
    hosts: Mapping[str, str], products: int = 2000, categories: int = 20, vendors: int = 50, per_page: int = 25
) -> dict[str, Built]:
    """Build the benchmark market; return path -> page and truth (``1 + listing pages + products + 1 + vendors``
    pages: 2,131 with the defaults). Raises ValueError when a count is below 1."""
    if min(products, categories, vendors, per_page) < 1:
        raise ValueError("bigmarket needs at least one product, category, vendor and listing row")
    big = _Big(hosts, products, categories, vendors, per_page)
    pages: dict[str, Built] = {"/": big.home()}
    for slug in big.categories:
        pages[f"/c/{slug}"] = big.listing(slug, 1)
        for number in range(2, big.pages_of(slug) + 1):
            pages[f"/c/{slug}/page/{number}"] = big.listing(slug, number)
    for product in big.products:
        pages[f"/product/{product}"] = big.product(product)
    pages["/vendors"] = big.vendor_list()
    for index, name in enumerate(big.vendors):
        pages[f"/vendor/{name}"] = big.vendor(index, name)
    return pages
