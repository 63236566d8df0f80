"""The lab's fixture sites (crawler/lab/sites) and their HTTP server (crawler/lab/serve.py): same bytes on every build,
every page reachable from ``/``, ground truth that holds (valid addresses from the official vectors, real PGP keys
checked by gpg, the languages present), cross-site links that follow ``onion_hosts``, pages served over a socket."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import html as lxml_html

from crawler.lab.sites import ALL_SITE_NAMES, BENCH_SITE_NAMES, SITE_NAMES, build_site
from crawler.lab.sites.data import MARKET_SOFTWARE, PRODUCTS
from crawler.lab.sites.keys import KEYS
from crawler.lab.sites.onions import onion_from_key, placeholder_onion
from crawler.lab.sites.paste import JUNK_STRINGS
from crawler.lab.sites.truth import all_pages, expected_signals
from tests.vectors import load_vectors

REPO = Path(__file__).resolve().parents[2]
VECTOR_FILES = {"BTC": "bitcoin", "XMR": "monero", "ETH": "ethereum", "LTC": "litecoin", "DOGE": "dogecoin",
                "BCH": "bitcoincash", "TRX": "tron"}
ALL_VECTOR_FILES = ("bitcoin", "monero", "ethereum", "litecoin", "dogecoin", "bitcoincash", "tron", "dash", "zcash",
                    "solana", "bech32_generic")
# Real lab-like hostnames (valid v3 onions from the official vectors) standing in for the lab's onions.
LAB_HOSTS = dict(zip(ALL_SITE_NAMES, load_vectors("onion")["valid"], strict=False))


def _values(entries: list) -> set[str]:
    return {entry["value"] if isinstance(entry, dict) else entry for entry in entries}


def valid_vectors(name: str) -> set[str]:
    data = load_vectors(name)
    return _values(data.get("valid", []))


def every_valid_string() -> set[str]:
    found: set[str] = set()
    for name in ALL_VECTOR_FILES:
        data = load_vectors(name)
        found |= _values(data.get("valid", [])) | _values(data.get("valid_other_networks", []))
    return found


def site_digest(name: str, hosts: dict[str, str] | None = None) -> str:
    digest = hashlib.sha256()
    for path, page in build_site(name, hosts).pages.items():
        digest.update(repr((path, page.status, page.content_type, page.headers)).encode())
        digest.update(page.body)
    return digest.hexdigest()


def links_of(body: bytes, base: str) -> list[str]:
    """Absolute URLs of the <a href> links of an HTML page (http/https only, fragments dropped)."""
    tree = lxml_html.fromstring(body)
    urls = []
    for href in tree.xpath("//a/@href"):
        url = urljoin(base, str(href).strip()).split("#", 1)[0]
        if urlsplit(url).scheme in ("http", "https"):
            urls.append(url)
    return urls


def target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def crawl(name: str, hosts: dict[str, str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Breadth-first walk of site *name* from ``/`` over its own links, as a crawler would.
    Return (path -> depth, same-site links to missing pages, cross-site links)."""
    pages = build_site(name, hosts).pages
    host = hosts[name]
    depth = {"/": 0}
    queue = deque(["/"])
    broken: list[str] = []
    external: list[str] = []
    while queue:
        path = queue.popleft()
        page = pages[path]
        if not page.content_type.startswith("text/html"):
            continue
        for url in links_of(page.body, f"http://{host}{path}"):
            if urlsplit(url).hostname != host:
                external.append(url)
                continue
            linked = target(url)
            if linked not in pages:
                broken.append(f"{path} -> {linked}")
            elif linked not in depth:
                depth[linked] = depth[path] + 1
                queue.append(linked)
    return depth, broken, external


# --- determinism ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SITE_NAMES)
def test_two_builds_are_the_same_bytes(name):
    assert site_digest(name) == site_digest(name)
    assert site_digest(name, LAB_HOSTS) == site_digest(name, LAB_HOSTS)
    assert site_digest(name) != site_digest(name, LAB_HOSTS)  # the hosts really reach the pages


def test_builds_do_not_depend_on_the_process_hash_seed():
    """Set and dict ordering must not leak into the bytes: two interpreters with other hash seeds agree."""
    script = (
        "import hashlib\nfrom crawler.lab.sites import build_site, ALL_SITE_NAMES\nd = hashlib.sha256()\n"
        "for n in ALL_SITE_NAMES:\n    for p, page in build_site(n).pages.items():\n"
        "        d.update(p.encode()); d.update(page.body)\nprint(d.hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO))
        result = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True,
                                timeout=120, check=True)
        digests.add(result.stdout.strip())
    assert len(digests) == 1


# --- reachability ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SITE_NAMES)
def test_every_page_is_reachable_from_root_and_no_link_is_broken(name):
    depth, broken, _external = crawl(name, LAB_HOSTS)
    pages = build_site(name, LAB_HOSTS).pages
    assert broken == []
    assert set(depth) == set(pages), f"orphans: {sorted(set(pages) - set(depth))[:10]}"
    assert max(depth.values()) <= 4, "deeper than Scrapy's default DEPTH_LIMIT allows with margin"


def test_cross_site_links_point_at_existing_pages_of_the_given_onions():
    by_host = {host: name for name, host in LAB_HOSTS.items()}
    seen = 0
    for name in SITE_NAMES:
        _depth, _broken, external = crawl(name, LAB_HOSTS)
        for url in external:
            host = urlsplit(url).hostname or ""
            if not host.endswith(".onion"):
                continue  # the directory's one clearnet link
            assert host in by_host, f"{name} links to {url}, not a lab onion"
            assert by_host[host] in SITE_NAMES, "the benchmark site is never linked"
            assert target(url) in build_site(by_host[host], LAB_HOSTS).pages, url
            seen += 1
    assert seen > 50


def test_phishing_clone_is_linked_only_by_the_directory_scam_list_and_the_forum_warning():
    fake = LAB_HOSTS["phishing"]
    referrers = {name for name in SITE_NAMES for truth in expected_signals(name, LAB_HOSTS).values()
                 if fake in truth["onions"]}
    assert referrers == {"directory", "forum", "phishing"}


def test_bigmarket_is_big_with_realistic_page_sizes():
    pages = build_site("bigmarket").pages
    assert len(pages) >= 2000
    products = [page.body for path, page in pages.items() if path.startswith("/product/")]
    assert len(products) >= 2000
    assert all(10_000 <= len(body) <= 60_000 for body in products)
    assert BENCH_SITE_NAMES == ("bigmarket",) and "bigmarket" not in SITE_NAMES


# --- onion hostnames ------------------------------------------------------------------------------------------------


def test_onion_derivation_matches_the_official_vectors():
    onion = load_vectors("onion")
    for host in onion["valid"]:
        key = base64.b32decode(host.removesuffix(".onion").upper())[:32]
        assert onion_from_key(key) == host
    for host in onion["invalid"]:
        label = host.removesuffix(".onion").upper()
        if len(label) != 56:
            continue
        try:
            key = base64.b32decode(label)[:32]
        except ValueError:
            continue
        assert onion_from_key(key) != host


def test_placeholders_are_stable_distinct_valid_onions():
    hosts = [placeholder_onion(name) for name in ALL_SITE_NAMES]
    assert len(set(hosts)) == len(hosts)
    for host in hosts:
        assert re.fullmatch(r"[a-z2-7]{56}\.onion", host)
        assert onion_from_key(base64.b32decode(host[:56].upper())[:32]) == host
    assert placeholder_onion("market") == "jrnzwp6h2bk7icvkox6txld4void7iviijha6xcnpo2trscoav3zf4ad.onion"


def test_truth_names_the_own_onion_on_pages_that_link_within_the_site():
    for name in SITE_NAMES:
        pages = build_site(name, LAB_HOSTS).pages
        for path, truth in expected_signals(name, LAB_HOSTS).items():
            html_page = pages[path].content_type.startswith("text/html")
            assert (LAB_HOSTS[name] in truth["onions"]) == html_page, f"{name}{path}"
            assert all(urlsplit(url).hostname != LAB_HOSTS[name] for url in truth["onion_links"])


def test_partial_onion_hosts_fall_back_to_placeholders():
    hosts = {"forum": LAB_HOSTS["forum"]}
    onions = {o for truth in expected_signals("market", hosts).values() for o in truth["onions"]}
    assert LAB_HOSTS["forum"] in onions
    assert placeholder_onion("directory") in onions


# --- ground truth ---------------------------------------------------------------------------------------------------


def test_all_pages_and_expected_signals_cover_exactly_the_built_pages():
    listed = all_pages(LAB_HOSTS)
    assert list(listed) == list(SITE_NAMES)
    for name in SITE_NAMES:
        assert listed[name] == list(build_site(name, LAB_HOSTS).pages)
        assert len(set(listed[name])) == len(listed[name])
        assert set(expected_signals(name, LAB_HOSTS)) == set(listed[name])
        assert 9 <= len(listed[name]) <= 60
    assert list(all_pages(names=BENCH_SITE_NAMES)) == ["bigmarket"]


@pytest.mark.parametrize("name", ALL_SITE_NAMES)
def test_every_truth_address_is_a_valid_official_vector_shown_on_its_page(name):
    pages = build_site(name).pages
    count = 0
    for path, truth in expected_signals(name).items():
        body = pages[path].body.decode()
        for item in truth["crypto_addresses"]:
            currency, address = item["currency"], item["address"]
            assert address in valid_vectors(VECTOR_FILES[currency]), f"{name}{path}: {currency} {address}"
            assert address in body, f"{name}{path} does not show {address}"
            count += 1
    assert count > 0 or name == "directory"


def test_market_and_phishing_share_vendors_but_no_payment_address():
    market = expected_signals("market")
    phishing = expected_signals("phishing")
    assert list(market) == list(phishing)
    market_addresses = {a["address"] for t in market.values() for a in t["crypto_addresses"]}
    phishing_addresses = {a["address"] for t in phishing.values() for a in t["crypto_addresses"]}
    assert market_addresses and phishing_addresses and not market_addresses & phishing_addresses
    assert [t["vendors"] for t in market.values()] == [t["vendors"] for t in phishing.values()]
    assert [t["pgp_fingerprints"] for t in market.values()] == [t["pgp_fingerprints"] for t in phishing.values()]
    kinds = {a["address"][:4] for t in market.values() for a in t["crypto_addresses"] if a["currency"] == "BTC"}
    assert {"bc1q", "bc1p"} <= kinds and any(k.startswith("1") for k in kinds) and any(k.startswith("3") for k in kinds)
    real, fake = build_site("market").pages["/"].body, build_site("phishing").pages["/"].body
    assert b"<title>Home | Nocturne Market</title>" in real and b"(Official Mirror)</title>" in fake
    assert real.split(b"<footer>")[1] != fake.split(b"<footer>")[1]


def test_paste_site_covers_many_chains_and_its_junk_holds_no_valid_address():
    signals = expected_signals("paste")
    currencies = {a["currency"] for t in signals.values() for a in t["crypto_addresses"]}
    assert {"ETH", "LTC", "DOGE", "BCH", "XMR", "TRX"} <= currencies
    addresses = {a["address"] for t in signals.values() for a in t["crypto_addresses"]}
    subaddress = "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H"
    assert subaddress in addresses
    assert "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" in addresses  # EIP-55 mixed case
    valid = every_valid_string()
    junk_page = build_site("paste").pages["/raw/Jk9sQ4zp"].body.decode()
    for junk in JUNK_STRINGS:
        assert junk in junk_page
        assert junk not in valid, junk
        if junk.lower().startswith(("bc1", "tb1", "ltc1", "bitcoincash:")):  # case-insensitive encodings
            assert junk.lower() not in {v.lower() for v in valid}, junk
    for path in ("/paste/Jk9sQ4zp", "/raw/Jk9sQ4zp"):
        assert signals[path]["crypto_addresses"] == [] and signals[path]["onions"] == (
            [] if path.startswith("/raw") else signals[path]["onions"]
        )
    contacts = build_site("paste").pages["/raw/Ct7vW2xm"].body.decode()
    forum = placeholder_onion("forum")
    assert forum not in contacts and f"{forum[:56]}[.]onion" in contacts
    assert forum in signals["/raw/Ct7vW2xm"]["onions"]


def test_truth_contacts_are_shown_on_their_pages():
    for name in SITE_NAMES:
        pages = build_site(name).pages
        for path, truth in expected_signals(name).items():
            body = html.unescape(pages[path].body.decode())
            for handle in truth["handles"]:
                assert handle["handle"] in body.lower(), f"{name}{path}: {handle}"
            for email in truth["emails"]:
                local, domain = email.split("@")
                assert local in body and domain.split(".")[0] in body, f"{name}{path}: {email}"
            for onion in truth["onions"]:
                if onion == placeholder_onion(name):  # named by the relative links, which resolve to it
                    assert 'href="/' in body, f"{name}{path}"
                else:
                    assert onion[:56] in body, f"{name}{path}: {onion}"
    networks = {h["network"] for n in SITE_NAMES for t in expected_signals(n).values() for h in t["handles"]}
    assert {"xmpp", "telegram", "session"} <= networks


def test_product_pages_name_their_vendor_and_the_market_software():
    for variant in ("market", "phishing"):
        pages = build_site(variant).pages
        truth = expected_signals(variant)
        for product in PRODUCTS:
            path = f"/product/{product.id}"
            assert truth[path]["vendors"] == [product.vendor]
            body = pages[path].body.decode()
            assert f'<meta name="generator" content="{MARKET_SOFTWARE}">' in body
            assert re.search(rf"(Sold by|Vendu par|Verkauft von|Verkocht door) <a class=\"vendor-name\" "
                             rf"href=\"/vendor/{product.vendor}\">", body)
    assert any("Sold by" in build_site("market").pages[f"/product/{p.id}"].body.decode() for p in PRODUCTS)


# --- PGP keys -------------------------------------------------------------------------------------------------------


def gpg_show(armored: str, home: Path) -> list[list[str]]:
    result = subprocess.run(["gpg", "--homedir", str(home), "--batch", "--show-keys", "--with-colons"],
                            input=armored, capture_output=True, text=True, timeout=60, check=True)
    return [line.split(":") for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def gnupg_home(tmp_path_factory):
    if shutil.which("gpg") is None:
        pytest.fail("gpg is not installed: apt-get install gnupg (the key files are checked by the real gpg)")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    return home


@pytest.mark.parametrize("name", sorted(KEYS))
def test_pgp_key_files_parse_with_gpg_and_match_the_recorded_fingerprint(name, gnupg_home):
    key = KEYS[name]
    records = gpg_show(key.armored, gnupg_home)
    fingerprints = [r[9] for r in records if r[0] == "fpr"]
    pub = next(r for r in records if r[0] == "pub")
    uids = [html.unescape(r[9]) for r in records if r[0] == "uid"]
    assert fingerprints[0] == key.fingerprint
    assert pub[3] == {"ed25519": "22", "rsa3072": "1"}[key.algorithm]
    if key.algorithm == "rsa3072":
        assert pub[2] == "3072"
    assert uids == [key.uid]


def test_keys_on_pages_are_the_recorded_ones_even_when_mangled(gnupg_home):
    shown = {fp for n in SITE_NAMES for t in expected_signals(n).values() for fp in t["pgp_fingerprints"]}
    assert shown <= {key.fingerprint for key in KEYS.values()}
    assert {k.fingerprint for k in KEYS.values() if k.algorithm == "rsa3072"} & shown
    thread = build_site("forum").pages["/thread/1004"].body.decode()
    pasted = re.search(r'<div class="pasted-key">(.*?)</div>', thread, re.S)
    assert pasted and "\n" not in pasted.group(1) and "&#43;" in pasted.group(1)
    armored = html.unescape(pasted.group(1).replace("<br />", "\n"))
    records = gpg_show(armored, gnupg_home)
    assert next(r[9] for r in records if r[0] == "fpr") == KEYS["cipherpunk"].fingerprint
    assert expected_signals("forum")["/thread/1004"]["pgp_fingerprints"] == [KEYS["cipherpunk"].fingerprint]


# --- languages ------------------------------------------------------------------------------------------------------


def test_languages_present_and_declared():
    for name in ("market", "forum", "paste", "directory", "phishing"):
        truth = expected_signals(name)
        assert {t["language"] for t in truth.values()} == {"en", "fr", "de", "nl"}, name
        for path, page in build_site(name).pages.items():
            if page.content_type.startswith("text/html"):
                assert f'<html lang="{truth[path]["language"]}">'.encode() in page.body


def test_non_english_pages_are_recognised_by_a_language_detector():
    """The texts are real sentences, long enough for detection: langdetect (seeded) agrees with the truth."""
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    checked = 0
    for name in SITE_NAMES:
        pages = build_site(name).pages
        for path, truth in expected_signals(name).items():
            body = pages[path].body
            if pages[path].content_type.startswith("text/html"):
                tree = lxml_html.fromstring(body)
                for pre in tree.xpath("//pre[@class='pgp-key']"):
                    pre.drop_tree()
                text = tree.text_content()
            else:
                text = body.decode()
            assert detect(text) == truth["language"], f"{name}{path}"
            checked += 1
    assert checked > 100


# --- the server -----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def served_market(tmp_path):
    hosts_file = tmp_path / "onion-hosts.json"
    hosts_file.write_text(json.dumps({name: LAB_HOSTS[name] for name in SITE_NAMES}))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.lab.serve", "--site", "market", "--port", str(port),
         "--onion-hosts", str(hosts_file)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the server did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def test_server_answers_every_page_with_the_built_bytes(served_market):
    site = build_site("market", {name: LAB_HOSTS[name] for name in SITE_NAMES})
    for path, page in site.pages.items():
        status, headers, body = fetch(served_market + path)
        assert status == 200 and body == page.body, path
        assert headers["Content-Type"] == page.content_type
        assert headers["Content-Length"] == str(len(page.body))
    assert LAB_HOSTS["forum"].encode() in fetch(served_market + "/")[2]
    assert fetch(served_market + "/listings?page=2")[2] != fetch(served_market + "/listings")[2]


def test_server_404s_unknown_paths_and_answers_head(served_market):
    status, _headers, body = fetch(served_market + "/no/such/page")
    assert status == 404 and b"404" in body
    status, headers, body = fetch(served_market + "/vendors", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    assert fetch(served_market + "/vendors?sort=name")[2] == fetch(served_market + "/vendors")[2]


def test_server_serves_plain_text_pages(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "crawler.lab.serve", "--site", "paste", "--port", str(port)],
                               cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = fetch(f"http://127.0.0.1:{port}/raw/Dn4tR8kq")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
        assert body == build_site("paste").pages["/raw/Dn4tR8kq"].body
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ('["market"]', "must hold a JSON object"),
        ('{"market": "abc.onion"}', "not a valid v3 onion"),
        ('{"market": "nytimesn7cgmftshazwhfgzm37qxb44r64ytbb2dj3x62d2lnez7pnzl.onion"}', "not a valid v3 onion"),
    ],
)
def test_server_rejects_a_bad_hosts_file_in_one_line(tmp_path, content, message):
    hosts_file = tmp_path / "hosts.json"
    hosts_file.write_text(content)
    result = subprocess.run(
        [sys.executable, "-m", "crawler.lab.serve", "--site", "market", "--port", str(free_port()),
         "--onion-hosts", str(hosts_file)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_server_rejects_unknown_site_and_missing_file(tmp_path):
    for args, message in ((["--site", "nope"], "unknown fixture site 'nope'"),
                          (["--site", "forum", "--onion-hosts", str(tmp_path / "missing.json")], "cannot read")):
        result = subprocess.run([sys.executable, "-m", "crawler.lab.serve", *args, "--port", str(free_port())],
                                cwd=REPO, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_the_lab_sees_the_onion_hosts_option():
    from crawler.lab.network import serve_accepts_onion_hosts

    assert serve_accepts_onion_hosts()
