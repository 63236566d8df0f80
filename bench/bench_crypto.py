"""Benchmark of the crypto address finder on marketplace-like pages of 30-200 KB.

Run: ``.venv/bin/python bench/bench_crypto.py [--pages 300] [--seed 1] [--dir DIR]``. Reports per-page latency
p50/p90/p99, throughput (pages/s and MB/s on one core) and peak Python memory of one call. Pages are generated
(prose in several scripts, HTML-to-text noise, payment addresses, PGP armor, Base64 blobs, hashes, URLs) unless
``--dir`` names a folder of saved page texts (``*.txt``), which are used as they are.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from pipelines.extract.crypto import find_crypto_addresses

WORDS = (
    "vendor escrow shipping worldwide stealth tracking price quality feedback listing product refund dispute order "
    "payment wallet deposit withdraw balance account login register market forum review rating trusted days "
    "товар доставка цена продавец отзывы гарант заказ оплата кошелек "
    "versand preis bewertung lieferung zahlung envío precio pago billetera calidad "
    "支付 地址 价格 卖家 评价 订单 "
    "Versandkostenfrei Zahlungsbestätigung Kundenzufriedenheit internationalization responsibilities"
).split()
ADDRESSES = (
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
    "0xdAC17F958D2ee523a2206206994597C13D831ec7",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    "LT2KVaAy1ppRuxRgrS5RNU3vBsy7RibPeA",
)


def _armor(rng: random.Random) -> str:
    body = base64.b64encode(rng.randbytes(600)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{lines}\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----"


def make_page(rng: random.Random, size: int) -> str:
    """Return a synthetic page text of about ``size`` characters."""
    parts: list[str] = []
    total = 0
    while total < size:
        roll = rng.random()
        if roll < 0.002:
            piece = f"Send payment to {rng.choice(ADDRESSES)} within 24h."
        elif roll < 0.003:
            piece = _armor(rng)
        elif roll < 0.004:
            piece = "data:image/png;base64," + base64.b64encode(rng.randbytes(3000)).decode()
        elif roll < 0.010:
            piece = "0x" + hashlib.sha256(rng.randbytes(8)).hexdigest()
        elif roll < 0.020:
            piece = f"http://{rng.randbytes(35).hex()[:56]}.onion/listing/{rng.randrange(10**6)}?ref=abc"
        elif roll < 0.030:
            piece = "\n\n"
        else:
            piece = rng.choice(WORDS)
        parts.append(piece)
        total += len(piece) + 1
    return " ".join(parts)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its report; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="generated pages (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="folder of saved page texts (*.txt) to use instead")
    args = parser.parse_args(argv)
    if args.dir is not None:
        pages = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(args.dir.glob("*.txt"))]
        if not pages:
            print(f"bench_crypto: error: no *.txt files in {args.dir}; give a folder of page texts", file=sys.stderr)
            return 2
    else:
        rng = random.Random(args.seed)
        pages = [make_page(rng, rng.randint(30_000, 200_000)) for _ in range(args.pages)]
    for page in pages[:5]:
        find_crypto_addresses(page)
    times: list[float] = []
    found = 0
    for page in pages:
        start = time.perf_counter()
        found += len(find_crypto_addresses(page))
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    find_crypto_addresses(max(pages, key=len))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    chars = sum(len(p) for p in pages)
    per_100k = [t / len(p) * 100_000 for t, p in zip(times, pages, strict=True)]
    print(f"pages {len(pages)}, {chars / len(pages) / 1000:.0f} KB mean, {found} addresses found")
    print(
        "per page ms  p50 {:.3f}  p90 {:.3f}  p99 {:.3f}".format(
            *(1000 * _percentile(times, q) for q in (0.5, 0.9, 0.99))
        )
    )
    print(f"per 100 KB ms  p50 {1000 * statistics.median(per_100k):.3f}  p99 {1000 * _percentile(per_100k, 0.99):.3f}")
    print(f"throughput {len(pages) / sum(times):.0f} pages/s, {chars / sum(times) / 1e6:.1f} MB/s (one core)")
    print(f"peak memory of one call on the largest page: {peak / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
