"""``darkcrawl evidence``: export the exact WARC record behind an indexed page, or verify a crawl manifest.

    darkcrawl evidence URL [-o FILE] [--exchange]   # the response record (a .warc.gz member) and its SHA-256
    darkcrawl evidence URL --at DATE                 # the capture of the version the page showed at DATE
    darkcrawl evidence verify MANIFEST               # re-hash every WARC file the manifest lists

See docs/evidence.md.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, es_session, print_answer, say
from crawler.errors import UsageError
from crawler.evidence import EvidenceMismatch

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "evidence",
        run,
        help="export the WARC record of an indexed URL, or verify a crawl manifest",
        description="darkcrawl evidence URL: export the stored response record of URL (found in the index) and check "
        "its SHA-256. darkcrawl evidence verify MANIFEST: re-hash the WARC files of a crawl.",
    )
    parser.add_argument("target", metavar="URL|verify", help="the page's URL, or `verify`")
    parser.add_argument("manifest", nargs="?", metavar="MANIFEST", help="with verify: the crawl's manifest file")
    parser.add_argument("-o", "--output", metavar="FILE", help="output file (default: <sha>.warc.gz; -: stdout)")
    parser.add_argument("--exchange", action="store_true", help="export response, request and metadata records")
    parser.add_argument("--warc-dir", metavar="DIR", help="where the WARC files are (DARKCRAWL_WARC_DIR)")
    parser.add_argument("--at", metavar="DATE", help="the capture of what the page showed then (its version at that "
                        "date, darkcrawl history): 2026-11-20, 2026-11-20T08:00:00Z, yesterday")
    add_json_option(parser, "print the result as JSON")


def verify(args: argparse.Namespace) -> int:
    from crawler.evidence.manifest import verify_manifest

    if not args.manifest:
        raise UsageError("darkcrawl evidence verify needs the manifest file: darkcrawl evidence verify MANIFEST")
    path = Path(args.manifest)
    if not path.is_file():
        raise UsageError(f"manifest {path} does not exist")
    try:
        checks = verify_manifest(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    bad = [check for check in checks if check.status != "ok"]
    def line(check: Any) -> str:
        if check.status == "ok":
            return f"ok        {check.name}  sha256 {check.actual_sha256}"
        if check.status == "missing":
            return f"MISSING   {check.name}"
        return (f"MISMATCH  {check.name}  expected {check.expected_sha256}, found {check.actual_sha256} "
                f"({check.actual_bytes} bytes, {check.expected_bytes} recorded)")

    answer = {"manifest": str(path), "ok": not bad, "files": [c.as_dict() for c in checks]}
    print_answer(args.json, answer, lambda: [line(check) for check in checks])  # names from a file: printable
    if bad:
        raise EvidenceMismatch(
            f"{len(bad)} of {len(checks)} WARC files do not match the manifest {path}: "
            + ", ".join(f"{check.name} ({check.status})" for check in bad)
        )
    if not args.json:
        print(f"all {len(checks)} WARC files match {path}")
    return 0


def find_page(settings: BaseSettings, url: str, at: str | None = None) -> dict[str, Any]:
    """The page (or, with *at*, its version current then) whose WARC record is exported."""
    from crawler.cli.history import version_at
    from crawler.es.schema import index_names

    names = index_names(settings)
    with es_session(settings) as client:
        if at is not None:
            version = version_at(client, names.versions, url, at)["version"]
            if version is None:
                raise UsageError(f"{url} has no version fetched at or before {at} (darkcrawl history URL lists them)")
            source: dict[str, Any] = dict(version, fetched_at=version["first_seen"])
        else:
            response = client.search(
                index=names.pages, size=1, query={"term": {"url": url}},
                sort=[{"fetched_at": {"order": "desc"}}], source_includes=["url", "warc", "fetched_at", "crawl_id"],
            )
            hits = response["hits"]["hits"]
            if not hits:
                raise UsageError(f"{url} is not in the index: give the URL exactly as indexed (darkcrawl search "
                                 "shows it)")
            source = hits[0]["_source"]
    if not source.get("warc"):
        raise UsageError(
            f"{url} was indexed without WARC evidence (crawl {source.get('crawl_id')}): crawl with "
            "DARKCRAWL_WARC_ENABLED=1 to keep it"
        )
    return source


def export(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.cli.history import moment
    from crawler.evidence.manifest import read_record
    from crawler.evidence.middleware import warc_dir

    page = find_page(settings, args.target, moment(args.at, "--at") if args.at else None)
    warc = page["warc"]
    directory = Path(args.warc_dir) if args.warc_dir else warc_dir(settings)
    path = directory / warc["file"]
    if not path.is_file():
        raise UsageError(f"WARC file {path} is not there: give its directory with --warc-dir (or DARKCRAWL_WARC_DIR)")
    try:
        record = read_record(path, int(warc["offset"]), int(warc["length"]))
    except ValueError as exc:
        raise EvidenceMismatch(str(exc)) from None
    digest = hashlib.sha256(record).hexdigest()
    if digest != warc["record_sha256"]:
        raise EvidenceMismatch(
            f"the record of {args.target} in {path} at offset {warc['offset']} has SHA-256 {digest}, but the index "
            f"recorded {warc['record_sha256']}: the file changed since the crawl"
        )
    data = read_record(path, int(warc["offset"]), int(warc["exchange_length"])) if args.exchange else record
    output = args.output or f"{warc['record_sha256'][:16]}.warc.gz"
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(data)
    result = {
        "url": args.target, "fetched_at": page.get("fetched_at"), "file": warc["file"], "offset": warc["offset"],
        "length": warc["length"], "record_sha256": digest, "payload_digest": warc.get("payload_digest"),
        "matches_index": True, "output": output, "output_sha256": hashlib.sha256(data).hexdigest(),
    }
    if args.json and output != "-":
        print_answer(True, result, lambda: "")
    else:
        say(f"{args.target}: record sha256 {digest} matches the index; {len(data)} bytes written to {output}")
    return 0


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    if args.target == "verify":
        return verify(args)
    if args.manifest:
        raise UsageError("give one URL (or `verify MANIFEST`)")
    return export(args, settings)
