"""The constants the fixture sites are built from: addresses, vendors, products, contacts and texts.

Every crypto address here is a VALID mainnet address taken from the team's official test vectors
(``tests/fixtures/vectors/*.json``, ``valid`` lists); each site uses its own. The market and its phishing clone share
vendors, keys and products but not one payment address. Contacts use the reserved ``example.*`` domains (RFC 2606).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Fixed rates the market quotes prices with (no "now" anywhere: the pages are the same bytes on every build).
BTC_EUR = 61_250.0
XMR_EUR = 148.40

MARKET_NAME = "Nocturne Market"
MARKET_SOFTWARE = "ShadowStall 2.4.1"  # the <meta name="generator"> of the market and of its phishing clone


@dataclass(frozen=True)
class Contact:
    """One contact line: the network (``email`` or a handle network), its normal form, and how it is shown."""

    network: str
    value: str
    shown: str


@dataclass(frozen=True)
class Vendor:
    """A market vendor: name, language of its profile, PGP key name, contacts, bio, and its direct-deal addresses on
    the real market and on the phishing clone ((currency, address) pairs)."""

    name: str
    language: str
    key: str
    since: str
    contacts: tuple[Contact, ...]
    bio: str
    market_addresses: tuple[tuple[str, str], ...]
    phishing_addresses: tuple[tuple[str, str], ...]


def session_id(seed: str) -> str:
    """A Session id (66 hex, ``05`` + 32-byte key) derived from *seed*: stable and unique per seed."""
    return "05" + hashlib.sha256(seed.encode()).hexdigest()


SESSION_DUTCHDIRECT = session_id("dutchdirect")
SESSION_LECHIMISTE = session_id("lechimiste")
SESSION_QUIETSTORM = session_id("quietstorm")
SESSION_CIPHERPUNK = session_id("cipherpunk")

VENDORS: tuple[Vendor, ...] = (
    Vendor(
        name="greywolf",
        language="en",
        key="greywolf",
        since="March 2024",
        contacts=(
            Contact("xmpp", "greywolf@jabber.example.net", "Jabber: greywolf@jabber.example.net"),
            Contact("telegram", "greywolf_shop", "Telegram: @greywolf_shop"),
            Contact("email", "greywolf@example.com", "greywolf [at] example [dot] com"),
        ),
        bio=(
            "Greywolf has been trading digital goods since the old days of the first markets. Every order is checked "
            "by hand before it leaves, and every message is answered within one day. Please encrypt everything you "
            "send with my PGP key below; unencrypted addresses are deleted without reading. Disputes are settled "
            "fairly, and a reship is offered once per customer when something goes wrong on my side."
        ),
        market_addresses=(
            ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
            ("XMR", "4ADT1BtbxqEWeMKp9GgPr2NeyJXXtNxvoDawpyA4WpzFcGcoHUvXeijE66DNfohE9r1bQYaBiQjEtKE7CtkTdLwiDznFzra"),
        ),
        phishing_addresses=(
            ("BTC", "1G9A9j6W8TLuh6dEeVwWeyibK1Uc5MfVFV"),
            ("XMR", "43aeKax1ts4BoEbSyzKVbbDRmc8nsnpZLUpQBYvhUxs3KVrodnaFaBEQMDp69u4VaiEG3LSQXA6M61mXPrztCLuh7PFUAmd"),
        ),
    ),
    Vendor(
        name="dutchdirect",
        language="nl",
        key="dutchdirect",
        since="november 2023",
        contacts=(
            Contact("session", SESSION_DUTCHDIRECT, f"Session: {SESSION_DUTCHDIRECT}"),
            Contact("email", "dutchdirect@example.org", "dutchdirect@example.org"),
            Contact("telegram", "dutchdirect_nl", "https://t.me/dutchdirect_nl"),
        ),
        bio=(
            "Wij zijn een klein team uit Nederland en verzenden al meer dan twee jaar zonder problemen. Alle "
            "bestellingen die voor drie uur 's middags binnenkomen, worden dezelfde dag nog verwerkt. Stuur uw "
            "adres altijd versleuteld met onze PGP-sleutel, anders wordt de bestelling geannuleerd. Bij vragen "
            "kunt u ons het beste via Session bereiken, wij reageren meestal binnen een paar uur."
        ),
        market_addresses=(("BTC", "bc1qyucykdlhp62tezs0hagqury402qwhk589q80tqs5myh3rxq34nwqhkdhv7"),),
        phishing_addresses=(("BTC", "bc1qgc9ljrvdf2e0zg9rmmq86xklqwfys7r6wptjlacdgrcdc7sa6ggqu4rrxf"),),
    ),
    Vendor(
        name="lechimiste",
        language="fr",
        key="lechimiste",
        since="juin 2024",
        contacts=(
            Contact("xmpp", "lechimiste@xmpp.example.org", "XMPP : lechimiste@xmpp.example.org"),
            Contact("email", "lechimiste@example.net", "lechimiste(at)example.net"),
            Contact("session", SESSION_LECHIMISTE, f"Session : {SESSION_LECHIMISTE}"),
        ),
        bio=(
            "Bienvenue dans ma boutique, je travaille seul et je prépare chaque commande moi-même avec le plus grand "
            "soin. Les envois partent deux fois par semaine, le mardi et le vendredi, depuis la France. Merci de "
            "chiffrer votre adresse avec ma clé PGP, les messages en clair seront supprimés sans réponse. En cas de "
            "problème, contactez-moi avant d'ouvrir un litige, je trouve toujours une solution."
        ),
        market_addresses=(
            ("XMR", "84LooD7i35SFppgf4tQ453Vi3q5WexSUXaVgut69ro8MFnmHwuezAArEZTZyLr9fS6QotjqkSAxSF6d1aDgsPoX849izJ7m"),
        ),
        phishing_addresses=(
            ("XMR", "4DHKLPmWW8aBoEbSyzKVbbDRmc8nsnpZLUpQBYvhUxs3KVrodnaFaBEQMDp69u4VaiEG3LSQXA6M61mXPrztCLuhAR6GpL18QNwE8h3TuF"),  # noqa: E501
        ),
    ),
    Vendor(
        name="alpenkraft",
        language="de",
        key="alpenkraft",
        since="September 2023",
        contacts=(
            Contact("email", "alpenkraft@example.com", "alpenkraft AT example DOT com"),
            Contact("telegram", "alpenkraft_versand", "Telegram: @alpenkraft_versand"),
            Contact("xmpp", "alpenkraft@jabber.example.de", "Jabber: alpenkraft@jabber.example.de"),
        ),
        bio=(
            "Wir sind ein zuverlässiger Versand aus dem Alpenraum und arbeiten seit vielen Jahren auf verschiedenen "
            "Märkten. Jede Bestellung wird sorgfältig verpackt und innerhalb von zwei Werktagen verschickt. Bitte "
            "verschlüsseln Sie Ihre Lieferadresse immer mit unserem öffentlichen Schlüssel. Bei Fragen zu einer "
            "Bestellung schreiben Sie uns bitte zuerst eine Nachricht, bevor Sie einen Streitfall eröffnen."
        ),
        market_addresses=(("BTC", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),),
        phishing_addresses=(("BTC", "33GA3ZXbw5o5HeUrBEaqkWXFYYZmdxGRRP"),),
    ),
    Vendor(
        name="quietstorm",
        language="en",
        key="quietstorm",
        since="January 2025",
        contacts=(
            Contact("session", SESSION_QUIETSTORM, f"Session ID: {SESSION_QUIETSTORM}"),
            Contact("xmpp", "quietstorm@jabber.example.net", "XMPP/OTR: quietstorm@jabber.example.net"),
        ),
        bio=(
            "Quietstorm sells software licences and accounts, delivered automatically after the escrow confirms. "
            "Replacements are guaranteed for thirty days on every account that stops working. I do not answer "
            "messages on other platforms, so beware of anyone using my name outside this market. Always verify "
            "my signature against the key on this page before trusting a new mirror or contact."
        ),
        market_addresses=(
            ("BTC", "bc1q2ddhp55sq2l4xnqhpdv0xazg02v9dr7uu8c2p2"),
            ("XMR", "4HMcpBpe4ddJEEnFKUJHAYhGxkeTRH82sf36giEp9AcNfDBfkAtRLX7A6rZz18bbNHPNV7ex6WYbMN3aKisFRJZ8M7yKhzQhKW3ECCLWQw"),  # noqa: E501
        ),
        phishing_addresses=(("BTC", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),),
    ),
)
VENDOR_BY_NAME = {vendor.name: vendor for vendor in VENDORS}

# The market's escrow addresses (payment page): one of each Bitcoin kind, and Monero.
MARKET_ESCROW: tuple[tuple[str, str, str], ...] = (
    ("BTC", "legacy (P2PKH)", "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo"),
    ("BTC", "P2SH", "36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm"),
    ("BTC", "SegWit (bech32)", "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv"),
    ("BTC", "Taproot (bech32m)", "bc1p83n3au0rjylefxq2nc2xh2y4jzz4pm6zxj4mw5pagdjjr2a9f36s6jjnnu"),
    ("XMR", "Monero", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"),  # noqa: E501
)
PHISHING_ESCROW: tuple[tuple[str, str, str], ...] = (
    ("BTC", "legacy (P2PKH)", "1FjL87pn8ky6Vbavd1ZHeChRXtoxwRGCRd"),
    ("BTC", "P2SH", "3BZECeAH8gSKkjrTx8PwMrNQBLG18yHpvf"),
    ("BTC", "SegWit (bech32)", "bc1qhxt04s5xnpy0kxw4x99n5hpdf5pmtzpqs52es2"),
    ("BTC", "Taproot (bech32m)", "bc1pve739yap4uxjvfk0jrey69078u0gasm2nwvv483ec6zkzulgw9xqu4w9fd"),
    ("XMR", "Monero", "47ewoP19TN7JEEnFKUJHAYhGxkeTRH82sf36giEp9AcNfDBfkAtRLX7A6rZz18bbNHPNV7ex6WYbMN3aKisFRJZ8Ebsmgef"),  # noqa: E501
)

# Market support contacts: the phishing clone swaps in its own Telegram.
MARKET_SUPPORT = (
    Contact("email", "support@nocturne.example.org", "support [at] nocturne.example [dot] org"),
    Contact("xmpp", "staff@jabber.example.org", "Jabber: staff@jabber.example.org"),
)
PHISHING_SUPPORT = (
    Contact("email", "support@nocturne.example.org", "support [at] nocturne.example [dot] org"),
    Contact("telegram", "nocturne_official_help", "Telegram: @nocturne_official_help"),
)


@dataclass(frozen=True)
class Category:
    slug: str
    title: str
    blurb: str


CATEGORIES: tuple[Category, ...] = (
    Category("digital-goods", "Digital Goods",
             "Accounts, e-books and other goods delivered as files or codes right after the escrow confirms."),
    Category("software", "Software",
             "Licence keys, tools and utilities; automatic delivery is available from most vendors in this section."),
    Category("guides", "Guides & Tutorials",
             "Written guides on privacy, operational security and staying anonymous, in several languages."),
    Category("services", "Services",
             "Custom work offered by vendors: design, translation, hosting and other services paid through escrow."),
)


@dataclass(frozen=True)
class Product:
    """A market listing: id (``/product/<id>``), title, category slug, vendor, language, price in EUR, description."""

    id: int
    title: str
    category: str
    vendor: str
    language: str
    eur: float
    description: str


PRODUCTS: tuple[Product, ...] = (
    Product(101, "Premium VPN account, 12 months", "digital-goods", "greywolf", "en", 18.0,
            "A full year of a premium VPN subscription on a fresh account that was never used before. Login details "
            "are delivered inside an encrypted message within an hour of payment. The account works on five devices "
            "at the same time and can be renewed through me at the same price."),
    Product(102, "Streaming bundle: four services, 6 months", "digital-goods", "greywolf", "en", 24.5,
            "Four popular streaming services on private accounts for half a year. Each account comes with its own "
            "mailbox so you can change the password yourself. Replacement is free if an account stops working "
            "during the first month."),
    Product(103, "Office suite licence key (lifetime)", "software", "quietstorm", "en", 12.0,
            "A retail licence key for the desktop office suite, activated online on first start. Keys are delivered "
            "automatically by the market bot, so there is no waiting for the vendor. Each key can be activated on "
            "a single computer only."),
    Product(104, "Password manager family plan", "software", "quietstorm", "en", 9.9,
            "A family plan for a well-known password manager, valid for one year and for up to six people. You "
            "receive an invitation link that you can accept from a new account. Support is included for the whole "
            "period of the subscription."),
    Product(105, "Complete OPSEC guide 2026 edition", "guides", "greywolf", "en", 15.0,
            "This guide covers compartmentalisation, safe operating systems, encrypted communication and the most "
            "common mistakes that get people identified. It is about ninety pages long and updated twice a year. "
            "Buyers receive every future edition for free."),
    Product(106, "Guide complet de l'anonymat en ligne", "guides", "lechimiste", "fr", 14.0,
            "Ce guide explique pas à pas comment protéger votre vie privée sur internet sans connaissances "
            "techniques. Il couvre le choix du système, le chiffrement des messages et les erreurs les plus "
            "fréquentes. Chaque chapitre se termine par une liste de vérification pratique. La mise à jour de cette "
            "année ajoute une partie complète sur les téléphones portables."),
    Product(107, "Comptes de streaming premium, trois mois", "digital-goods", "lechimiste", "fr", 11.0,
            "Des comptes premium privés livrés par message chiffré dans les vingt-quatre heures suivant le paiement. "
            "Vous pouvez changer le mot de passe vous-même dès la réception. Si un compte cesse de fonctionner "
            "pendant la période, je le remplace gratuitement. Merci de laisser un avis après la livraison."),
    Product(108, "Handleiding veilig internetbankieren", "guides", "dutchdirect", "nl", 13.0,
            "Deze handleiding legt in eenvoudige taal uit hoe u uw bankzaken veilig online kunt regelen. Wij "
            "behandelen sterke wachtwoorden, tweestapsverificatie en het herkennen van valse berichten. Elk "
            "hoofdstuk bevat voorbeelden uit de praktijk en een korte samenvatting. De nieuwe versie is dit jaar "
            "volledig herschreven."),
    Product(109, "Softwarelicentie voor fotobewerking", "software", "dutchdirect", "nl", 21.0,
            "Een volledige licentie voor een bekend programma voor fotobewerking, geldig voor een jaar. De sleutel "
            "wordt binnen een uur na betaling per versleuteld bericht verstuurd. Installatie is eenvoudig en wij "
            "helpen u graag als er iets niet lukt. Verlenging is mogelijk tegen dezelfde prijs."),
    Product(110, "Sicherheitsleitfaden für Einsteiger", "guides", "alpenkraft", "de", 16.0,
            "Dieser Leitfaden erklärt Schritt für Schritt, wie Sie Ihre Privatsphäre im Internet schützen können. "
            "Er behandelt sichere Passwörter, verschlüsselte Nachrichten und die häufigsten Fehler von Anfängern. "
            "Jedes Kapitel endet mit einer kurzen Checkliste zum Abhaken. Die aktuelle Ausgabe wurde in diesem "
            "Jahr vollständig überarbeitet."),
    Product(111, "Übersetzungsdienst Deutsch und Englisch", "services", "alpenkraft", "de", 35.0,
            "Wir übersetzen Ihre Texte zuverlässig vom Deutschen ins Englische und umgekehrt. Der Preis gilt für "
            "bis zu tausend Wörter, größere Aufträge sind nach Absprache möglich. Die Lieferung erfolgt "
            "verschlüsselt innerhalb von drei Werktagen. Auf Wunsch lesen wir den fertigen Text ein zweites Mal "
            "Korrektur."),
    Product(112, "Logo and banner design", "services", "quietstorm", "en", 40.0,
            "A custom logo and a matching banner for your shop or forum profile, drawn from your description. "
            "You get three drafts to choose from and two rounds of changes. Final files are delivered in several "
            "sizes through an encrypted message."),
    Product(113, "E-book collection: classic science fiction", "digital-goods", "greywolf", "en", 6.5,
            "A collection of two hundred classic science fiction novels in a clean e-book format. Every file has "
            "been checked and opens on all common readers. The download link is valid for seven days after "
            "delivery."),
    Product(114, "Hébergement web anonyme, un an", "services", "lechimiste", "fr", 45.0,
            "Un hébergement web discret pour un petit site, payé en une seule fois pour toute l'année. Le serveur "
            "est situé hors de l'Union européenne et aucune pièce d'identité n'est demandée. La mise en place prend "
            "moins d'une journée après le paiement. Une sauvegarde complète est faite chaque semaine."),
    Product(115, "Webhosting zonder registratie", "services", "dutchdirect", "nl", 38.0,
            "Betrouwbare webhosting voor een klein project, zonder dat u persoonlijke gegevens hoeft op te geven. "
            "De server staat in een land met sterke privacywetten en wordt dagelijks gecontroleerd. Binnen een dag "
            "na betaling ontvangt u de inloggegevens. Wij maken elke nacht een volledige back-up."),
    Product(116, "Virenschutz Lizenz für drei Geräte", "software", "alpenkraft", "de", 14.5,
            "Eine Lizenz für ein bekanntes Virenschutzprogramm, gültig für ein Jahr auf bis zu drei Geräten. "
            "Der Schlüssel wird automatisch nach der Bestätigung des Treuhandkontos geliefert. Die Aktivierung "
            "funktioniert in allen Ländern ohne Einschränkung. Bei Problemen ersetzen wir den Schlüssel sofort."),
)
PRODUCT_BY_ID = {product.id: product for product in PRODUCTS}
LISTINGS_PER_PAGE = 6
