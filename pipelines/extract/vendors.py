"""Vendor and seller names in a page: operator rules per site or market software, then generic heuristics.
Contract in docs/signals.md (``vendors``); rule file format in docs/signals.md ("Vendor rules").

Offers :func:`load_vendor_rules` (YAML paths -> :class:`VendorRules`, raising :class:`crawler.errors.UsageError`
naming the file and line), :func:`default_rules_path` and :func:`find_vendors`.

A rule applies to a page when all its ``match`` conditions hold: the page's host is one of ``hosts``, its
``<meta name="generator">`` matches ``generator`` (a regular expression), its markup has an element matching
``selector`` (CSS). Its ``vendor`` extractors (CSS or XPath, optionally an attribute and a regular expression)
then name the vendors; each result says ``rule:<id>``. The heuristics need no configuration: labels such as
"Vendor:", "Sold by", "Seller:", "Verkoper:", "Vendeur :", "Verkäufer:" in the text, and profile links such as
``/vendor/<name>``, ``/user/<name>``, ``/profile/<name>``; each result says ``heuristic:<label>``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from lxml import etree
from lxml import html as lxml_html
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from crawler.errors import UsageError

from .caps import Capped, Distinct
from .casing import lower_same_length
from .yamlfile import compose_yaml_file

log = logging.getLogger(__name__)

_NAME = r"@?([^\W_][\w.\-]{1,39})(?!\w)"  # a whole word: never the first 40 letters of a longer one
VALUE_WINDOW = 100  # characters after a label that its value is looked for in (a bound on each match's work)
_COLON_LABELS = (
    "vendor", "seller", "verkoper", "vendeur", "vendeuse", "verkäufer", "verkaeufer", "anbieter", "händler",
    "shop owner", "store owner", "vendor name", "nom du vendeur", "verkopersnaam",
)  # fmt: skip
_PHRASE_LABELS = ("sold by", "vendu par", "verkocht door", "verkauft von", "verkauft durch", "offered by", "listed by")
_COLON_VALUE = re.compile(r"\s*[:\uff1a]\s*" + _NAME)
_PHRASE_VALUE = re.compile(r"\s*:?\s*" + _NAME)
# A profile link: .../vendor/<name> at the end of the path (the URL's query and fragment may follow).
_PROFILE_URL = re.compile(
    r"/(vendors?|sellers?|users?|profiles?|members?|u|store|shop)/([^/?#;]{2,40})/?(?:[?#;]|$)", re.IGNORECASE
)
_NOT_NAMES = frozenset(
    {
        "the", "a", "an", "us", "our", "me", "you", "this", "that", "le", "la", "les", "un", "une", "de", "des",
        "du", "het", "een", "der", "die", "das", "ein", "eine", "unknown", "none", "n/a", "na", "anonymous",
        "profile", "edit", "settings", "login", "register", "page", "list", "all", "new", "top", "search", "index",
        "vendors", "sellers", "users", "members", "staff", "admin", "admins", "moderator", "moderators", "team",
        "market", "customers", "buyers", "verkopers", "vendeurs", "verkäufer", "anbieter", "them", "other",
        "others", "trusted", "verified", "many", "most", "some",
    }
)  # fmt: skip
RULE_KEYS = frozenset({"id", "description", "match", "vendor"})
MATCH_KEYS = frozenset({"hosts", "generator", "selector"})
EXTRACTOR_KEYS = frozenset({"css", "xpath", "attribute", "pattern"})


def default_rules_path() -> Path:
    """The example rules shipped with darkcrawl (``pipelines/extract/rules/example_sites.yaml``)."""
    return Path(__file__).parent / "rules" / "example_sites.yaml"


@dataclass(frozen=True)
class Extractor:
    """One way of reading vendor names: a CSS selector or an XPath, an optional attribute, an optional regex."""

    css: str | None = None
    xpath: etree.XPath | None = None
    attribute: str | None = None
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class VendorRule:
    """A rule from a vendor-rules file (see the module docstring)."""

    id: str
    hosts: frozenset[str] = frozenset()
    generator: re.Pattern[str] | None = None
    selector: str | None = None
    extractors: tuple[Extractor, ...] = ()

    def applies(self, host: str, generator: str, tree: LexborHTMLParser | None) -> bool:
        """True when every condition of this rule holds for the page."""
        if self.hosts and host not in self.hosts:
            return False
        if self.generator is not None and not self.generator.search(generator):
            return False
        if self.selector is not None:
            return tree is not None and tree.css_first(self.selector) is not None
        return True


@dataclass
class VendorRules:
    """Compiled vendor rules; build once with :func:`load_vendor_rules`."""

    rules: list[VendorRule] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rules)


def _clean_name(raw: str) -> str | None:
    name = " ".join(raw.split()).strip(" @:,.;-")
    if not 2 <= len(name) <= 60 or name.lower() in _NOT_NAMES:
        return None
    return name


def _apply_extractor(
    extractor: Extractor, tree: LexborHTMLParser | None, html: str, lxml_cache: list[Any]
) -> list[str]:
    values: list[str] = []
    if extractor.css is not None and tree is not None:
        for node in tree.css(extractor.css):
            if extractor.attribute:
                values.append(node.attributes.get(extractor.attribute) or "")
            else:
                values.append(node.text(deep=True, separator=" "))
    elif extractor.xpath is not None and html:
        if not lxml_cache:
            try:
                lxml_cache.append(lxml_html.fromstring(html))
            except (etree.ParserError, ValueError):
                lxml_cache.append(None)
        root = lxml_cache[0]
        if root is not None:
            result = extractor.xpath(root)
            for item in result if isinstance(result, list) else [result]:
                if isinstance(item, str):
                    values.append(str(item))
                elif hasattr(item, "get") and extractor.attribute:
                    values.append(item.get(extractor.attribute) or "")
                elif hasattr(item, "text_content"):
                    values.append(item.text_content())
    if extractor.pattern is not None:
        matched = []
        for value in values:
            found = extractor.pattern.search(value)
            if found:
                matched.append(found.group(1) if found.groups() else found.group(0))
        values = matched
    return values


def _url_host(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def rule_vendor_values(
    rules: VendorRules | None,
    *,
    url: str | None = None,
    tree: LexborHTMLParser | None = None,
    html: str = "",
    generator: str = "",
) -> list[tuple[str, str]]:
    """The raw values the *rules* that apply to the page read from its *tree* (CSS) or *html* (XPath, parsed by
    lxml only when such a rule applies), as ``(source, value)`` in rule order. The crawl evaluates them where the
    page's tree is (spiders/onion.py), so that extraction workers never parse the page again. Never raises."""
    values: list[tuple[str, str]] = []
    if rules is None or not rules.rules:
        return values
    host = _url_host(url)
    lxml_cache: list[Any] = []
    for rule in rules.rules:
        source = f"rule:{rule.id}"
        try:
            if not rule.applies(host, generator, tree):
                continue
            for extractor in rule.extractors:
                for value in _apply_extractor(extractor, tree, html, lxml_cache):
                    values.append((source, value))
        except Exception:  # a rule is operator input: a failing one costs its own results only
            log.debug("vendor rule %s failed on %s", rule.id, url, exc_info=True)
    return values


def find_vendors(
    text: str,
    links: Iterable[str] = (),
    *,
    url: str | None = None,
    tree: LexborHTMLParser | None = None,
    html: str = "",
    generator: str = "",
    rules: VendorRules | None = None,
    limit: int | None = None,
    rule_vendors: list[tuple[str, str]] | None = None,
) -> Capped[dict[str, str]]:
    """Return ``[{"name", "source"}]``: vendors named by the matching *rules* (``rule:<id>``), then by the
    heuristics (``heuristic:<label>``), distinct by name (case-insensitive), in that order; at most *limit* (the
    others counted in ``beyond``). *rule_vendors*, when given, are the rules' values read already
    (:func:`rule_vendor_values`) and *rules*, *tree* and *html* are not read. Never raises; linear time in the
    text and the links."""
    found: Distinct[str, dict[str, str]] = Distinct(limit)
    heads: set[str] = set()  # the first words of the names kept ("grey" and "grey wolf" of "grey wolf shop")

    def add(raw: str, source: str) -> None:
        name = _clean_name(raw)
        if not name:
            return
        key = name.casefold()
        if key in found or (source.startswith("heuristic:") and key in heads):
            return  # a label heuristic reads one word; a rule already gave the full name
        found.add(key, lambda: {"name": name, "source": source})
        if key in found.values:
            words = key.split(" ")
            heads.update(" ".join(words[:count]) for count in range(1, len(words)))

    if rule_vendors is None:
        rule_vendors = rule_vendor_values(rules, url=url, tree=tree, html=html, generator=generator)
    for source, value in rule_vendors:
        add(value, source)
    lowered = lower_same_length(text)
    labelled: list[tuple[int, str, str]] = []
    searches: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
        (_COLON_LABELS, _COLON_VALUE),
        (_PHRASE_LABELS, _PHRASE_VALUE),
    )
    for labels, value_pattern in searches:
        for label in labels:
            position = lowered.find(label)
            while position != -1:
                end = position + len(label)
                before_ok = position == 0 or not lowered[position - 1].isalnum()
                if before_ok and (end >= len(lowered) or not lowered[end].isalnum()):
                    match = value_pattern.match(text, end, end + VALUE_WINDOW)
                    if match and match.end() < end + VALUE_WINDOW:
                        labelled.append((position, label, match.group(1)))
                position = lowered.find(label, end)
    for _position, label, name in sorted(labelled):
        add(name, f"heuristic:{label}")
    for link in [url, *links] if url else links:
        profile = _PROFILE_URL.search(link) if "/" in link else None
        if profile and profile.start() > link.find("//") + 1:  # in the path, not the host
            name = unquote(profile.group(2))
            if not name.isdigit():
                add(name, f"heuristic:/{profile.group(1).lower()}/")
    return found.result()


# --- loading rule files -------------------------------------------------------------------------------------------


def _where(path: Path, node: Any) -> str:
    mark = getattr(node, "start_mark", None)
    return f"{path}:{mark.line + 1}" if mark is not None else str(path)


def _string(path: Path, node: Any, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{_where(path, node)}: {what} must be a non-empty string")
    return value.strip()


def _node_for(mapping_node: Any, key: str) -> Any:
    if isinstance(mapping_node, yaml.MappingNode):
        for key_node, value_node in mapping_node.value:
            if getattr(key_node, "value", None) == key:
                return value_node
    return mapping_node


def _compile_extractor(path: Path, node: Any, spec: Any) -> Extractor:
    if isinstance(spec, str):
        spec = {"css": spec}
    if not isinstance(spec, dict):
        raise UsageError(f"{_where(path, node)}: a vendor extractor is a mapping with css or xpath")
    unknown = set(spec) - EXTRACTOR_KEYS
    if unknown:
        raise UsageError(f"{_where(path, node)}: unknown key(s) {sorted(unknown)} (use {sorted(EXTRACTOR_KEYS)})")
    if ("css" in spec) == ("xpath" in spec):
        raise UsageError(f"{_where(path, node)}: give exactly one of css or xpath")
    css = xpath = pattern = None
    if "css" in spec:
        css = _string(path, _node_for(node, "css"), spec["css"], "css")
        try:
            LexborHTMLParser("<p></p>").css(css)
        except (SelectolaxError, ValueError) as exc:
            raise UsageError(f"{_where(path, _node_for(node, 'css'))}: bad CSS selector {css!r} ({exc})") from None
    else:
        expression = _string(path, _node_for(node, "xpath"), spec["xpath"], "xpath")
        try:
            xpath = etree.XPath(expression)
        except etree.XPathSyntaxError as exc:
            raise UsageError(f"{_where(path, _node_for(node, 'xpath'))}: bad XPath {expression!r} ({exc})") from None
    attribute = _string(path, node, spec["attribute"], "attribute") if "attribute" in spec else None
    if "pattern" in spec:
        source = _string(path, _node_for(node, "pattern"), spec["pattern"], "pattern")
        try:
            pattern = re.compile(source)
        except re.error as exc:
            raise UsageError(f"{_where(path, _node_for(node, 'pattern'))}: bad regular expression ({exc})") from None
    return Extractor(css=css, xpath=xpath, attribute=attribute, pattern=pattern)


def _compile_rule(path: Path, node: Any, spec: Any) -> VendorRule:
    if not isinstance(spec, dict):
        raise UsageError(f"{_where(path, node)}: each rule is a mapping with id, match and vendor")
    unknown = set(spec) - RULE_KEYS
    if unknown:
        raise UsageError(f"{_where(path, node)}: unknown key(s) {sorted(unknown)} (use {sorted(RULE_KEYS)})")
    rule_id = _string(path, node, spec.get("id"), "id")
    match_node = _node_for(node, "match")
    match = spec.get("match")
    if not isinstance(match, dict) or not match:
        raise UsageError(f"{_where(path, match_node)}: rule {rule_id!r} needs a 'match' with hosts/generator/selector")
    unknown = set(match) - MATCH_KEYS
    if unknown:
        where = _where(path, match_node)
        raise UsageError(f"{where}: unknown match key(s) {sorted(unknown)} (use {sorted(MATCH_KEYS)})")
    hosts: frozenset[str] = frozenset()
    if "hosts" in match:
        raw_hosts = match["hosts"]
        if isinstance(raw_hosts, str):
            raw_hosts = [raw_hosts]
        if not isinstance(raw_hosts, list) or not all(isinstance(h, str) and h.strip() for h in raw_hosts):
            raise UsageError(f"{_where(path, _node_for(match_node, 'hosts'))}: hosts must be a list of hostnames")
        hosts = frozenset(h.strip().lower().rstrip(".") for h in raw_hosts)
    generator = None
    if "generator" in match:
        source = _string(path, _node_for(match_node, "generator"), match["generator"], "generator")
        try:
            generator = re.compile(source, re.IGNORECASE)
        except re.error as exc:
            where = _where(path, _node_for(match_node, "generator"))
            raise UsageError(f"{where}: bad regular expression in generator ({exc})") from None
    selector = None
    if "selector" in match:
        selector = _string(path, _node_for(match_node, "selector"), match["selector"], "selector")
        try:
            LexborHTMLParser("<p></p>").css(selector)
        except (SelectolaxError, ValueError) as exc:
            where = _where(path, _node_for(match_node, "selector"))
            raise UsageError(f"{where}: bad CSS selector {selector!r} ({exc})") from None
    vendor_node = _node_for(node, "vendor")
    vendor = spec.get("vendor")
    if vendor is None:
        raise UsageError(f"{_where(path, node)}: rule {rule_id!r} has no 'vendor' extractor")
    specs = vendor if isinstance(vendor, list) else [vendor]
    item_nodes = vendor_node.value if isinstance(vendor_node, yaml.SequenceNode) else [vendor_node] * len(specs)
    extractors = tuple(_compile_extractor(path, n, s) for n, s in zip(item_nodes, specs, strict=False))
    return VendorRule(rule_id, hosts, generator, selector, extractors)


def read_vendor_rules(path: str | Path) -> list[VendorRule]:
    """Read one vendor-rules file. Raises :class:`UsageError` naming the file and line of the first problem."""
    path = Path(path)
    source, root = compose_yaml_file(path, "vendor rules")
    document = yaml.safe_load(source)  # composed without error above, so it loads
    if document is None:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise UsageError(f"{_where(path, root)}: expected a top-level 'rules:' list")
    rules_node = _node_for(root, "rules")
    nodes = rules_node.value if isinstance(rules_node, yaml.SequenceNode) else []
    rules = [_compile_rule(path, n, s) for n, s in zip(nodes, document["rules"], strict=False)]
    seen: set[str] = set()
    for node, rule in zip(nodes, rules, strict=False):
        if rule.id in seen:
            raise UsageError(f"{_where(path, node)}: duplicate rule id {rule.id!r}")
        seen.add(rule.id)
    return rules


def load_vendor_rules(paths: Iterable[str | Path] = ()) -> VendorRules:
    """Compile the rule files at *paths* (none given: the shipped example rules). Raises :class:`UsageError`."""
    chosen = [Path(p) for p in paths] or [default_rules_path()]
    rules: list[VendorRule] = []
    for path in chosen:
        rules.extend(read_vendor_rules(path))
    return VendorRules(rules)
