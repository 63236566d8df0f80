"""The ``directory`` fixture site ("Onion Compass"): a link directory listing the other lab onions with descriptions
in English, French, German and Dutch, and a scam list naming the market's phishing clone. Offers
:func:`build_directory`.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from .model import Built, Doc, Page, html_page

DIRECTORY_NAME = "Onion Compass"

# site -> (category, English name, English description)
ENTRIES: dict[str, tuple[str, str, str]] = {
    "market": ("markets", "Nocturne Market",
               "Escrow market for digital goods, software, guides and services, with vetted vendors and PGP keys."),
    "forum": ("forums", "Undertow Forum",
              "Discussion forum with market reviews, scam warnings and boards in several languages."),
    "paste": ("pastebins", "GhostBin",
              "Anonymous pastebin without JavaScript; every paste also has a raw text view."),
}
CATEGORIES: tuple[tuple[str, str], ...] = (("markets", "Markets"), ("forums", "Forums"), ("pastebins", "Pastebins"))

LOCALISED: dict[str, tuple[str, str, dict[str, str]]] = {
    "fr": ("Annuaire en français", (
        "Cette page présente les sites de l'annuaire avec une description en français. Nous vérifions chaque lien "
        "toutes les semaines et retirons les adresses qui ne répondent plus. Méfiez-vous des copies frauduleuses "
        "qui imitent les marchés connus, elles sont signalées dans notre liste des arnaques."
    ), {
        "market": "Un marché avec séquestre pour les biens numériques, les logiciels et les guides, où chaque "
                  "vendeur publie sa clé PGP.",
        "forum": "Un forum de discussion avec des avis sur les marchés, des alertes contre les arnaques et des "
                 "sections en plusieurs langues.",
        "paste": "Un service de partage de texte anonyme, sans JavaScript, avec une version brute de chaque texte.",
    }),
    "de": ("Verzeichnis auf Deutsch", (
        "Diese Seite stellt die Einträge des Verzeichnisses mit einer deutschen Beschreibung vor. Wir prüfen jeden "
        "Link jede Woche und entfernen Adressen, die nicht mehr erreichbar sind. Achten Sie auf gefälschte Kopien "
        "bekannter Märkte, sie stehen in unserer Liste der Betrugsseiten."
    ), {
        "market": "Ein Markt mit Treuhandkonto für digitale Waren, Software und Anleitungen, bei dem jeder "
                  "Verkäufer seinen PGP-Schlüssel veröffentlicht.",
        "forum": "Ein Diskussionsforum mit Bewertungen von Märkten, Warnungen vor Betrug und Bereichen in "
                 "mehreren Sprachen.",
        "paste": "Ein anonymer Dienst zum Teilen von Texten ohne JavaScript, mit einer Rohansicht für jeden Text.",
    }),
    "nl": ("Gids in het Nederlands", (
        "Deze pagina toont de sites uit de gids met een beschrijving in het Nederlands. Wij controleren elke link "
        "iedere week en verwijderen adressen die niet meer bereikbaar zijn. Pas op voor nagemaakte kopieën van "
        "bekende markten, die staan in onze lijst met oplichters."
    ), {
        "market": "Een markt met escrow voor digitale goederen, software en handleidingen, waar elke verkoper zijn "
                  "PGP-sleutel publiceert.",
        "forum": "Een discussieforum met beoordelingen van markten, waarschuwingen voor oplichting en onderdelen in "
                 "meerdere talen.",
        "paste": "Een anonieme dienst om teksten te delen zonder JavaScript, met een ruwe weergave van elke tekst.",
    }),
}


class _Directory:
    def __init__(self, hosts: Mapping[str, str]):
        self.hosts = hosts

    def page(self, doc: Doc, title: str, main: str) -> Page:
        nav = " &middot; ".join(
            [f'<a href="/">{DIRECTORY_NAME}</a>']
            + [f'<a href="/category/{slug}">{name}</a>' for slug, name in CATEGORIES]
            + ['<a href="/scams">Scam list</a>']
            + [f'<a href="/lang/{code}">{code.upper()}</a>' for code in LOCALISED]
            + ['<a href="/about">About</a>']
        )
        footer = f"<footer>{DIRECTORY_NAME} &middot; since 2022</footer>"
        body = f"<nav>{nav}</nav>\n<h1>{escape(title)}</h1>\n{main}\n{footer}"
        return Page(html_page(doc.truth.language, f"{title} | {DIRECTORY_NAME}", body))

    def entry(self, doc: Doc, site: str, description: str) -> str:
        url = f"http://{self.hosts[site]}/"
        return (
            f'<li class="site">{doc.onion_link(url, ENTRIES[site][1])} <code>{escape(self.hosts[site])}</code>'
            f"<br>{escape(description)}</li>"
        )

    def home(self) -> Built:
        doc = Doc("en")
        sections = []
        for slug, name in CATEGORIES:
            items = "\n".join(self.entry(doc, site, entry[2]) for site, entry in ENTRIES.items() if entry[0] == slug)
            sections.append(f'<h2><a href="/category/{slug}">{name}</a></h2>\n<ul>\n{items}\n</ul>')
        main = (
            f"<p>{DIRECTORY_NAME} lists onion services that were online at our last check. Links are tested every "
            "week and dead ones are removed. Known scams and phishing copies are on the scam list, never here.</p>\n"
            + "\n".join(sections)
        )
        return Built(self.page(doc, "Onion link directory", main), doc.truth)

    def category(self, slug: str, name: str) -> Built:
        doc = Doc("en")
        items = "\n".join(self.entry(doc, site, entry[2]) for site, entry in ENTRIES.items() if entry[0] == slug)
        main = (
            f"<p>All {name.lower()} in the directory, checked this week. Report dead links through the contact on "
            "the about page. Always verify an address with a second source.</p>\n" + f"<ul>\n{items}\n</ul>"
        )
        return Built(self.page(doc, name, main), doc.truth)

    def localised(self, code: str) -> Built:
        doc = Doc(code)
        title, intro, descriptions = LOCALISED[code]
        items = "\n".join(self.entry(doc, site, descriptions[site]) for site in ENTRIES)
        return Built(self.page(doc, title, f"<p>{escape(intro)}</p>\n<ul>\n{items}\n</ul>"), doc.truth)

    def scams(self) -> Built:
        doc = Doc("en")
        fake = self.hosts["phishing"]
        real = doc.onion_link(f"http://{self.hosts['market']}/", "Nocturne Market")
        main = (
            "<p>These sites copy real services to steal deposits and logins. Do not enter a password or send coins "
            "to them. The list is updated when users report a new copy with evidence.</p>\n"
            f'<ul>\n<li class="scam">{doc.onion_link(f"http://{fake}/", "Nocturne Market (Official Mirror)")} '
            f"<code>{escape(fake)}</code><br>PHISHING: a clone of Nocturne Market with its own deposit addresses. "
            f"The real market is {real}.</li>\n</ul>"
        )
        return Built(self.page(doc, "Scam list", main), doc.truth)

    def about(self) -> Built:
        doc = Doc("en")
        main = (
            f"<p>{DIRECTORY_NAME} is run by volunteers. We do not host anything and we do not vouch for the sites we "
            "list. Submit a new site or report a scam by e-mail; we answer within a week.</p>\n"
            f"<p>Contact: {doc.email('compass@example.org', 'compass [at] example [dot] org')}</p>\n"
            '<p>New to onion services? Start with <a href="https://www.torproject.org/">the Tor Project</a>.</p>'
        )
        return Built(self.page(doc, "About", main), doc.truth)


def build_directory(hosts: Mapping[str, str]) -> dict[str, Built]:
    """Build the directory; return path -> page and truth. *hosts*: site name -> hostname."""
    directory = _Directory(hosts)
    pages: dict[str, Built] = {"/": directory.home()}
    for slug, name in CATEGORIES:
        pages[f"/category/{slug}"] = directory.category(slug, name)
    for code in LOCALISED:
        pages[f"/lang/{code}"] = directory.localised(code)
    pages["/scams"] = directory.scams()
    pages["/about"] = directory.about()
    return pages
