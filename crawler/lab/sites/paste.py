"""The ``paste`` fixture site ("GhostBin"): pastes shown as HTML (``/paste/<id>``) and raw text (``/raw/<id>``).

Pastes hold crypto addresses of many chains (ETH with EIP-55 checksums, LTC, DOGE, BCH CashAddr, a Monero subaddress,
Tron), contact handles, a re-posted vendor key, an obfuscated onion ("xxxx[.]onion"), pastes in French, German and
Dutch, and one paste of junk full of address look-alikes and invalid test vectors that an extractor must NOT report.
Offers :func:`build_paste` and :data:`JUNK_STRINGS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape

from .data import session_id
from .keys import key
from .model import TEXT, Built, Doc, Page, html_page

PASTE_NAME = "GhostBin"

# Strings that look like addresses, onions or keys but are not valid ones: constructed look-alikes and official
# invalid vectors (tests/fixtures/vectors: lookalikes.json and the chains' "invalid" lists). None may be extracted.
JUNK_STRINGS: tuple[str, ...] = (
    "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # SHA-256("") with 0x
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # SHA-1("")
    "3FAqyiFbFBKT4TzXcVBqPTB3gmz",  # base58 run from a PGP armor
    "1S1TC9RiJsvawAfCPaQZoed8gK4",  # same
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # two glued
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # BIP-173 invalid checksum
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # BIP-350: v1 with bech32 checksum
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",  # BIP-173 invalid
    "1GAdfviErV2Ew95FPtZyikz2qGP3gyCB6Hyu94sedAkPpA523m3fQwps9YKUZkKgQckGPKhRsFR",  # key_io invalid
    "47ewoP19TN7JCEnFKUJHAYhGxkeTRH82sf36giEp9AcNfDBfkAtRLX7A6rZz18bbNHPNV7ex6WYbMN3aKisFRJZ8Ebsmgef",  # XMR typo
    "0x5b2063246F2191f18F2675ceDB8b28102e957458",  # EIP-55 checksum broken
    "TW1dU4L3eNm7Lw8WvieLKEHpXWAussRG9X",  # Tron checksum broken
    "DHqKSnpxa8ZdQyH8keAhvLTrfkyBMQxqngcQA5N8LQ9KVt25kmGN",  # DOGE invalid
    "bitcoincash:pqx578nanz2h2estzmkr53zqdg6qt8xyqvffffffff",  # CashAddr checksum broken
    "ltc1qfflgggucfrs482us7q786eew4ryqta3vl2aspf",  # LTC bech32 invalid
    "nytimesn7cgmftshazwhfgzm37qxb44r64ytbb2dj3x62d2lnez7pnzl.onion",  # v3 onion with a bad checksum
    "expyuzz4wqqyqhjn.onion",  # v2 onion: dead since 2021, not a v3 identity
)


SESSION_SHADOWTRADE = session_id("shadowtrade")


@dataclass(frozen=True)
class Paste:
    id: str
    title: str
    syntax: str
    language: str
    posted: str
    content: Callable[[Doc, Mapping[str, str]], str]  # plain text; the caller escapes it for the HTML view


def _donations(doc: Doc, hosts: Mapping[str, str]) -> str:
    return (
        "Donation addresses for the privacy tools project. Every coin helps us pay for the servers.\n"
        "We publish the totals every month on the forum, and all of the money goes to hosting and audits.\n\n"
        f"ETH (and ERC-20 tokens): {doc.address('ETH', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed')}\n"
        f"USDT (ERC-20), second wallet: {doc.address('ETH', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359')}\n"
        f"LTC: {doc.address('LTC', 'ltc1qhdhvrwe6rgqns8fz28tee0hphr5x7ulw5exv4w')}\n"
        f"LTC (old wallet): {doc.address('LTC', 'LT2KVaAy1ppRuxRgrS5RNU3vBsy7RibPeA')}\n"
        f"DOGE: {doc.address('DOGE', 'DEQU7G2Chw4r1gSKZt2GfKBpGbkbQSwp3S')}\n"
        f"BCH: {doc.address('BCH', 'bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a')}\n"
        "XMR (subaddress): "
        + doc.address(
            "XMR", "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H"
        )
        + "\n"
        f"TRX / USDT (TRC-20): {doc.address('TRX', 'TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC')}\n\n"
        "Thank you for supporting free software.\n"
    )


def _contacts(doc: Doc, hosts: Mapping[str, str]) -> str:
    forum = hosts["forum"]
    hidden = forum.removesuffix(".onion") + "[.]onion"
    return (
        "New contacts for the shop, the old ones are burned. Do not trust anything signed with the old key.\n"
        "Answers within one day, no orders by e-mail, only questions.\n\n"
        f"{doc.handle('xmpp', 'shadowtrade@jabber.example.org', 'Jabber: shadowtrade@jabber.example.org')}\n"
        f"{doc.handle('telegram', 'shadowtrade_support', 'Telegram: @shadowtrade_support')}\n"
        f"{doc.handle('session', SESSION_SHADOWTRADE, 'Session: ' + SESSION_SHADOWTRADE)}\n"
        f"Mail: {doc.email('shadowtrade@example.org', 'shadowtrade [at] example [dot] org')}\n"
        f"Backup mail: {doc.email('shadow.backup@example.com')}\n\n"
        f"Reviews and updates on the forum: {doc.onion(forum, hidden)} (remove the brackets)\n"
    )


def _junk(doc: Doc, hosts: Mapping[str, str]) -> str:
    lines = [
        "debug dump from the indexer, ignore. hashes, truncated keys and test strings below.",
        "none of these are real payment details; they failed validation on import.",
        "",
    ]
    lines += [f"[{number:03d}] {value}" for number, value in enumerate(JUNK_STRINGS, start=1)]
    lines += ["", "end of dump"]
    return "\n".join(lines) + "\n"


def _key_repost(doc: Doc, hosts: Mapping[str, str]) -> str:
    market = hosts["market"]
    return (
        "quietstorm's public key, reposted because the forum mangles keys.\n"
        f"Shop: {doc.onion(market)}/vendor/quietstorm\n"
        "Compare the full fingerprint before you trust a message.\n\n"
        f"{doc.pgp(key('quietstorm'))}"
    )


def _french(doc: Doc, hosts: Mapping[str, str]) -> str:
    return (
        "Liste de vérification avant chaque commande, à relire à chaque fois.\n\n"
        "Vérifiez toujours l'adresse du marché dans la liste signée par l'équipe avant de vous connecter. "
        "Ne communiquez jamais votre adresse sans la chiffrer avec la clé du vendeur. "
        "Utilisez un portefeuille différent pour chaque marché et ne réutilisez pas vos adresses. "
        "Gardez une copie des messages importants jusqu'à la fin de la commande.\n\n"
        f"Pour me remercier (DOGE) : {doc.address('DOGE', 'A36czoRusM4VxnNiEjTaaDcMyr4GB73xw1')}\n"
    )


def _german(doc: Doc, hosts: Mapping[str, str]) -> str:
    return (
        "Anleitung für neue Nutzer, bitte vollständig lesen.\n\n"
        "Prüfen Sie vor jeder Anmeldung die Adresse des Marktes in der signierten Liste der Betreiber. "
        "Verschlüsseln Sie Ihre Lieferadresse immer mit dem öffentlichen Schlüssel des Verkäufers. "
        "Benutzen Sie für jeden Markt eine eigene Geldbörse und verwenden Sie Adressen nicht mehrfach. "
        "Bewahren Sie wichtige Nachrichten auf, bis die Bestellung abgeschlossen ist.\n\n"
        f"Spenden (TRX): {doc.address('TRX', 'THRF3GuPnvvPzKoaT8pJex5XHmo8NNbCb3')}\n"
    )


def _dutch(doc: Doc, hosts: Mapping[str, str]) -> str:
    return (
        "Handleiding voor nieuwe gebruikers, lees alles goed door.\n\n"
        "Controleer voor elke aanmelding het adres van de markt in de ondertekende lijst van de beheerders. "
        "Versleutel uw afleveradres altijd met de openbare sleutel van de verkoper. "
        "Gebruik voor elke markt een aparte portemonnee en gebruik adressen nooit twee keer. "
        "Bewaar belangrijke berichten totdat de bestelling is afgerond.\n\n"
        f"Donaties (ETH): {doc.address('ETH', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB')}\n"
    )


PASTES: tuple[Paste, ...] = (
    Paste("Dn4tR8kq", "donation addresses", "text", "en", "2026-01-08 14:22", _donations),
    Paste("Ct7vW2xm", "shop contacts (new)", "text", "en", "2026-01-19 03:41", _contacts),
    Paste("Jk9sQ4zp", "indexer debug dump", "log", "en", "2026-02-01 11:09", _junk),
    Paste("Pg5hL3nv", "quietstorm pgp key", "pgp", "en", "2026-02-07 17:58", _key_repost),
    Paste("Fr2bM6cy", "liste de vérification", "text", "fr", "2026-02-12 09:15", _french),
    Paste("De8wK1rt", "Anleitung für neue Nutzer", "text", "de", "2026-02-16 20:03", _german),
    Paste("Nl3jX7fa", "handleiding nieuwe gebruikers", "text", "nl", "2026-02-20 08:47", _dutch),
)


class _Bin:
    def __init__(self, hosts: Mapping[str, str]):
        self.hosts = hosts

    def page(self, doc: Doc, title: str, main: str) -> Page:
        directory = doc.onion_link(f"http://{self.hosts['directory']}/", "directory")
        body = (
            f'<div class="top"><a href="/"><b>{PASTE_NAME}</b></a> &middot; <a href="/">new paste</a> &middot; '
            f'<a href="/archive">archive</a></div>\n<h1>{escape(title)}</h1>\n{main}\n'
            f'<div class="bottom">{PASTE_NAME}: no logs, no JavaScript. Listed in the {directory}.</div>'
        )
        return Page(html_page(doc.truth.language, f"{title} - {PASTE_NAME}", body))

    def table(self, pastes: tuple[Paste, ...]) -> str:
        rows = "\n".join(
            f'<tr><td><a href="/paste/{p.id}">{escape(p.title)}</a></td><td>{p.syntax}</td><td>{p.posted}</td></tr>'
            for p in pastes
        )
        return f'<table class="pastes">\n<tr><th>Title</th><th>Syntax</th><th>Posted</th></tr>\n{rows}\n</table>'

    def home(self) -> Built:
        doc = Doc("en")
        main = (
            '<form method="post" action="/"><textarea name="content" rows="20" cols="80"></textarea><br>'
            '<input type="submit" value="Create paste"></form>\n'
            "<p>Paste text anonymously. Pastes are public and cannot be edited or deleted once created. Please do "
            "not paste personal information about other people.</p>\n"
            f"<h3>Recent pastes</h3>\n{self.table(PASTES[-4:])}"
        )
        return Built(self.page(doc, "New paste", main), doc.truth)

    def archive(self) -> Built:
        doc = Doc("en")
        main = (
            "<p>Every public paste, newest last. Pastes older than one year are removed automatically. Use the raw "
            "view to download the exact text.</p>\n" + self.table(PASTES)
        )
        return Built(self.page(doc, "Archive", main), doc.truth)

    def view(self, paste: Paste) -> Built:
        doc = Doc(paste.language, text=True)  # the content is plain text, escaped once below
        content = paste.content(doc, self.hosts)
        main = (
            f'<div class="meta">{paste.posted} &middot; {paste.syntax} &middot; '
            f'<a href="/raw/{paste.id}">raw</a></div>\n'
            f'<pre class="paste">{escape(content)}</pre>'
        )
        return Built(self.page(doc, paste.title, main), doc.truth)

    def raw(self, paste: Paste) -> Built:
        doc = Doc(paste.language, text=True)
        return Built(Page(paste.content(doc, self.hosts).encode(), content_type=TEXT), doc.truth)


def build_paste(hosts: Mapping[str, str]) -> dict[str, Built]:
    """Build the paste site; return path -> page and truth. *hosts*: site name -> hostname."""
    site = _Bin(hosts)
    pages: dict[str, Built] = {"/": site.home(), "/archive": site.archive()}
    for paste in PASTES:
        pages[f"/paste/{paste.id}"] = site.view(paste)
        pages[f"/raw/{paste.id}"] = site.raw(paste)
    return pages
