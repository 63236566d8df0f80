"""Digest of every signal extracted from bench_extract's corpus: proof that a speed-up changed no output.

Run: ``.venv/bin/python bench/signals_digest.py [--pages 1000] [--seed 7] --out digests.json`` on the code before a
change and again after, then ``--against digests.json`` to compare (exit 1 and the first differing pages if any page's
signals differ). Each page's digest is the SHA-256 of its ``Signals.to_dict()`` plus its cleaned text, as canonical
JSON. ``PYTHONPATH`` selects which tree's code runs (e.g. an unpacked ``git archive`` of the base commit).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from bench_extract import build_corpus

from pipelines.extract import default_config, extract_signals


def digests(pages: int, seed: int) -> list[str]:
    """One hex digest per page of the corpus."""
    config = default_config()
    result = []
    for number, page in enumerate(build_corpus(pages, seed)):
        signals = extract_signals(page, f"http://bench.example/page/{number}", content_type="text/html", config=config)
        document = signals.to_dict() | {"text": signals.text}
        canonical = json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
        result.append(hashlib.sha256(canonical).hexdigest())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="write the digests to this file")
    parser.add_argument("--against", type=Path, help="compare with digests written earlier")
    args = parser.parse_args(argv)
    found = digests(args.pages, args.seed)
    if args.out:
        args.out.write_text(json.dumps(found))
    if args.against:
        expected = json.loads(args.against.read_text())
        differing = [number for number, (a, b) in enumerate(zip(found, expected, strict=True)) if a != b]
        if differing:
            print(f"{len(differing)} of {len(found)} pages differ, first: {differing[:10]}")
            return 1
        print(f"all {len(found)} pages: identical signals and text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
