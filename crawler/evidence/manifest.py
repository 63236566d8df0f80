"""The crawl manifest: what a run collected and the SHA-256 of each WARC file, written when the crawl ends; its
verification; and the export of one response record.

A manifest is ``<warc dir>/<crawl id>[-<worker>].manifest.json``: crawl id, worker, seeds, settings (secrets left out),
software versions, start and end, counts, and for each WARC file its name, size, record count and SHA-256.
``darkcrawl evidence verify MANIFEST`` re-hashes every file and names each one that differs or is missing.

Offers: :func:`build_manifest`, :func:`write_manifest`, :func:`verify_manifest`, :class:`FileCheck`,
:func:`read_record`, :func:`sha256_file`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler import settings as default_settings
from crawler.evidence.warc import WarcFile
from crawler.items import utc_timestamp
from crawler.redact import mask_data, masked_settings, secret_values

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

SCRAPY_SETTINGS = ("CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT",
                   "DEPTH_LIMIT", "USER_AGENT", "RETRY_TIMES", "DOWNLOAD_MAXSIZE")
PACKAGES = ("scrapy", "twisted", "warcio", "stem", "httpx", "elasticsearch", "scrapy-redis", "redis")


def software_versions(tor_binary: str = "tor") -> dict[str, str]:
    from crawler import __version__

    versions = {"darkcrawl": __version__, "python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    try:
        output = subprocess.run([tor_binary, "--version"], capture_output=True, text=True, timeout=10).stdout
        versions["tor"] = output.strip().splitlines()[0] if output.strip() else ""
    except (OSError, subprocess.SubprocessError):
        versions["tor"] = "unknown"
    return versions


def recorded_settings(settings: BaseSettings) -> dict[str, Any]:
    """The darkcrawl settings and the Scrapy settings that shape a crawl; secrets are not recorded, and URLs are
    recorded without their passwords (:func:`crawler.redact.masked_settings`)."""
    values: dict[str, Any] = {name: settings.get(name) for name in sorted(settings.attributes)
                              if name.startswith("DARKCRAWL_")}
    for name in SCRAPY_SETTINGS:
        values[name] = settings.get(name)
    return json.loads(json.dumps(mask_data(masked_settings(values), secret_values(settings)), default=str))


def build_manifest(*, crawl_id: str, worker: str, seeds: list[str], settings: BaseSettings, started_at: str,
                   finish_reason: str, stats: dict[str, Any], files: list[WarcFile]) -> dict[str, Any]:
    counts = {
        "pages": stats.get("darkcrawl/pages", 0),
        "exchanges_recorded": stats.get("darkcrawl/warc/exchanges", 0),
        "indexed": stats.get("darkcrawl/index/indexed", 0),
        "requests": stats.get("downloader/request_count", 0),
        "responses": stats.get("downloader/response_count", 0),
        "errors": sum(v for k, v in stats.items() if k.startswith("darkcrawl/errors/") and isinstance(v, int)),
    }
    return {
        "manifest_version": 1,
        "crawl_id": crawl_id,
        "worker": worker,
        "started_at": started_at,
        "finished_at": utc_timestamp(),
        "finish_reason": finish_reason,
        "seeds": seeds,
        "settings": recorded_settings(settings),
        "software": software_versions(settings.get("DARKCRAWL_TOR_BINARY") or default_settings.DARKCRAWL_TOR_BINARY),
        "counts": counts,
        "warc_files": [
            {"name": f.name, "bytes": f.bytes, "records": f.records, "sha256": f.sha256} for f in files
        ],
    }


def write_manifest(directory: Path, manifest: dict[str, Any]) -> Path:
    """Write *manifest* (fsynced) beside its WARC files; return its path."""
    name = f"{manifest['crawl_id']}-{manifest['worker']}.manifest.json"
    path = directory / name
    data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class FileCheck:
    name: str
    status: str  # "ok", "mismatch", "missing", "size"
    expected_sha256: str
    actual_sha256: str = ""
    expected_bytes: int = 0
    actual_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify_manifest(path: Path) -> list[FileCheck]:
    """Re-hash every WARC file the manifest at *path* lists (found beside it). Raises ValueError for a file that is
    not a darkcrawl manifest."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["warc_files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a darkcrawl crawl manifest ({type(exc).__name__}: {exc})") from None
    checks = []
    for entry in files:
        target = path.parent / entry["name"]
        check = FileCheck(entry["name"], "ok", entry["sha256"], expected_bytes=int(entry["bytes"]))
        if not target.is_file():
            check.status = "missing"
        else:
            check.actual_bytes = target.stat().st_size
            check.actual_sha256 = sha256_file(target)
            if check.actual_sha256 != check.expected_sha256:
                check.status = "mismatch"
        checks.append(check)
    return checks


def read_record(path: Path, offset: int, length: int) -> bytes:
    """The stored bytes of one record (a complete gzip member, itself a valid .warc.gz)."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
    if len(data) != length:
        raise ValueError(f"{path} ends before the record ({len(data)} of {length} bytes at offset {offset})")
    return data
