"""YARA watches: a rule file, compiled with yara-x and run on the page's text (UTF-8), matches naming the rule.

The file is compiled when the watch is added (a rule that does not compile is refused with the compiler's message)
and copied, under its SHA-256, into ``<data dir>/watch/rules/``: the crawl compiles that copy, so editing or moving the
original changes nothing until the watch is added again. All YARA watches are compiled into one rule set, one
namespace per watch, and a page is scanned once.

Offers :func:`yara_spec` (file -> stored spec) and :class:`YaraMatcher`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crawler.errors import UsageError
from crawler.watch.context import context_around, page_text
from crawler.watch.model import YARA, Watch

logger = logging.getLogger(__name__)

SCAN_TIMEOUT = 10  # seconds one page may take (yara-x stops the scan and the page fires nothing)
MAX_MATCHES = 10  # rules reported per watch and page
MAX_VALUE = 200
_RULE = re.compile(r"\brule\s+[A-Za-z_]\w*")


def _compile(sources: Iterable[tuple[str, str, str]]) -> Any:
    """One rule set from ``(namespace, source, where)``. Raises :class:`UsageError` with the compiler's message."""
    import yara_x

    compiler = yara_x.Compiler()
    for namespace, source, where in sources:
        compiler.new_namespace(namespace)
        try:
            compiler.add_source(source)
        except yara_x.CompileError as exc:
            raise UsageError(f"{where}: the YARA rules do not compile: {' '.join(str(exc).split())}") from None
    return compiler.build()


def yara_spec(path: str | Path, rules_dir: Path) -> dict[str, Any]:
    """Compile the rule file at *path* and keep a copy in *rules_dir*; return the spec (``rules_path``,
    ``rules_sha256``, ``rules_copy``). Raises :class:`UsageError` for an unreadable file or rules that do not
    compile (with yara-x's message)."""
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
        source = data.decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the YARA rule file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: the YARA rule file is not UTF-8 text") from None
    _compile([("check", source, str(path))])
    if not _RULE.search(source):
        raise UsageError(f"{path}: the file holds no YARA rule")
    digest = hashlib.sha256(data).hexdigest()
    rules_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(rules_dir, 0o700)
    copy = rules_dir / f"{digest}.yar"
    if not copy.exists():
        temporary = copy.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, copy)
    return {"rules_path": str(path.resolve()), "rules_sha256": digest, "rules_copy": str(copy)}


def _read_copy(watch: Watch) -> str:
    """The rules a watch was added with, checked against their SHA-256."""
    spec = watch.spec
    copy = Path(str(spec.get("rules_copy") or spec["rules_path"]))
    try:
        data = copy.read_bytes()
    except OSError as exc:
        raise UsageError(f"watch {watch.id}: cannot read its YARA rules {copy}: {exc.strerror or exc}; add the watch "
                         "again") from None
    if hashlib.sha256(data).hexdigest() != spec["rules_sha256"]:
        raise UsageError(f"watch {watch.id}: its YARA rules {copy} changed since it was added; add the watch again")
    return data.decode("utf-8")


class YaraMatcher:
    """The YARA watches, compiled into one rule set. :meth:`evaluate` returns watch id -> matches (one per rule)."""

    def __init__(self, watches: Iterable[Watch]) -> None:
        chosen = [watch for watch in watches if watch.kind == YARA]
        self.scanner: Any = None
        self.namespaces = {f"w_{watch.id.replace('-', '_')}": watch.id for watch in chosen}
        if chosen:
            import yara_x

            rules = _compile((f"w_{watch.id.replace('-', '_')}", _read_copy(watch), f"watch {watch.id}")
                             for watch in chosen)
            self.scanner = yara_x.Scanner(rules)
            self.scanner.set_timeout(SCAN_TIMEOUT)

    def evaluate(self, page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        if self.scanner is None:
            return {}
        text = page_text(page)
        data = text.encode("utf-8", "surrogatepass")
        try:
            results = self.scanner.scan(data)
        except Exception as exc:  # a timeout or a scan error loses this page's YARA matches, nothing else
            logger.warning("YARA scan of %s stopped: %s", page.get("url"), exc)
            return {}
        found: dict[str, list[dict[str, Any]]] = {}
        for rule in results.matching_rules:
            watch_id = self.namespaces.get(rule.namespace)
            if watch_id is None or len(found.get(watch_id, [])) >= MAX_MATCHES:
                continue
            value, context = rule.identifier, ""
            for pattern in rule.patterns:
                if pattern.matches:
                    first = pattern.matches[0]
                    start = len(data[:first.offset].decode("utf-8", "replace"))
                    matched = data[first.offset:first.offset + first.length].decode("utf-8", "replace")
                    value = " ".join(matched.split())[:MAX_VALUE] or rule.identifier
                    context = context_around(text, start, start + len(matched))
                    break
            found.setdefault(watch_id, []).append(
                {"kind": YARA, "value": value, "entity_kind": None, "context": context, "rule": rule.identifier}
            )
        return found
