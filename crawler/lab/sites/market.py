"""The ``market`` fixture site and its ``phishing`` clone: one builder, two variants.

The market ("Nocturne Market", software :data:`~crawler.lab.sites.data.MARKET_SOFTWARE`) has a home page with
categories, paginated listings (``/listings``, ``/listings?page=N``), product pages with prices in EUR, BTC and XMR and
a "Sold by" label, vendor profiles (``/vendor/<name>``) with an armored PGP public key, contact handles and direct-deal
addresses, a payment page with the escrow addresses (legacy, P2SH, bech32, Taproot, Monero), an FAQ in English,
French, German and Dutch, a support page and the staff key. The phishing clone renders the same templates with the
same vendors and keys but other payment addresses, another support Telegram, and a slightly different title and
footer. Offers :func:`build_market`.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from .data import (
    BTC_EUR,
    CATEGORIES,
    LISTINGS_PER_PAGE,
    MARKET_ESCROW,
    MARKET_NAME,
    MARKET_SOFTWARE,
    MARKET_SUPPORT,
    PHISHING_ESCROW,
    PHISHING_SUPPORT,
    PRODUCTS,
    VENDOR_BY_NAME,
    VENDORS,
    XMR_EUR,
    Contact,
    Product,
    Vendor,
)
from .keys import key
from .model import Built, Doc, Page, html_page

LABELS: dict[str, dict[str, str]] = {
    "en": {"home": "Home", "listings": "Listings", "vendors": "Vendors", "payment": "Payment", "faq": "FAQ",
           "support": "Support", "pgp": "PGP", "sold_by": "Sold by", "price": "Price", "category": "Category",
           "contact": "Contact", "key": "PGP public key", "direct": "Direct deal address", "member": "Member since",
           "products": "Products"},
    "fr": {"home": "Accueil", "listings": "Annonces", "vendors": "Vendeurs", "payment": "Paiement", "faq": "FAQ",
           "support": "Assistance", "pgp": "PGP", "sold_by": "Vendu par", "price": "Prix", "category": "Catégorie",
           "contact": "Contact", "key": "Clé publique PGP", "direct": "Adresse de paiement direct",
           "member": "Membre depuis", "products": "Produits"},
    "de": {"home": "Startseite", "listings": "Angebote", "vendors": "Verkäufer", "payment": "Zahlung", "faq": "FAQ",
           "support": "Hilfe", "pgp": "PGP", "sold_by": "Verkauft von", "price": "Preis", "category": "Kategorie",
           "contact": "Kontakt", "key": "Öffentlicher PGP-Schlüssel", "direct": "Adresse für Direktzahlung",
           "member": "Mitglied seit", "products": "Produkte"},
    "nl": {"home": "Start", "listings": "Aanbod", "vendors": "Verkopers", "payment": "Betaling", "faq": "FAQ",
           "support": "Hulp", "pgp": "PGP", "sold_by": "Verkocht door", "price": "Prijs", "category": "Categorie",
           "contact": "Contact", "key": "Openbare PGP-sleutel", "direct": "Adres voor directe betaling",
           "member": "Lid sinds", "products": "Producten"},
}

FAQ: dict[str, tuple[str, str]] = {
    "en": ("Frequently asked questions", (
        "Every order on Nocturne Market is paid into escrow and released to the vendor only when you finalize it. "
        "If an order does not arrive within fourteen days, you can open a dispute and a moderator will look at the "
        "messages from both sides. Never pay a vendor outside the market unless the listing clearly offers a "
        "direct deal and you trust the vendor. Always check the signed mirror list before you log in, because "
        "phishing copies of this market steal deposits every day. Encrypt your address with the vendor's PGP key; "
        "the market deletes old messages after thirty days."
    )),
    "fr": ("Questions fréquentes", (
        "Chaque commande sur Nocturne Market est payée sur un compte séquestre et n'est versée au vendeur que "
        "lorsque vous la finalisez. Si votre commande n'arrive pas dans les quatorze jours, vous pouvez ouvrir un "
        "litige et un modérateur examinera les messages des deux parties. Ne payez jamais un vendeur en dehors du "
        "marché, sauf si l'annonce propose clairement un paiement direct. Vérifiez toujours la liste signée des "
        "miroirs avant de vous connecter, car des copies frauduleuses volent des dépôts chaque jour. Chiffrez "
        "votre adresse avec la clé PGP du vendeur, les anciens messages sont effacés après trente jours."
    )),
    "de": ("Häufig gestellte Fragen", (
        "Jede Bestellung auf Nocturne Market wird auf ein Treuhandkonto bezahlt und erst an den Verkäufer "
        "ausgezahlt, wenn Sie die Bestellung abschließen. Wenn eine Bestellung nicht innerhalb von vierzehn Tagen "
        "ankommt, können Sie einen Streitfall eröffnen, und ein Moderator prüft die Nachrichten beider Seiten. "
        "Bezahlen Sie niemals einen Verkäufer außerhalb des Marktes, außer das Angebot erlaubt ausdrücklich eine "
        "Direktzahlung. Prüfen Sie vor dem Anmelden immer die signierte Liste der Spiegelseiten, denn gefälschte "
        "Kopien dieses Marktes stehlen jeden Tag Guthaben. Verschlüsseln Sie Ihre Adresse mit dem Schlüssel des "
        "Verkäufers, alte Nachrichten werden nach dreißig Tagen gelöscht."
    )),
    "nl": ("Veelgestelde vragen", (
        "Elke bestelling op Nocturne Market wordt betaald op een escrowrekening en pas aan de verkoper uitbetaald "
        "wanneer u de bestelling afrondt. Als een bestelling niet binnen veertien dagen aankomt, kunt u een geschil "
        "openen en bekijkt een moderator de berichten van beide kanten. Betaal nooit een verkoper buiten de markt, "
        "tenzij de advertentie duidelijk een directe betaling aanbiedt. Controleer altijd de ondertekende lijst met "
        "spiegels voordat u inlogt, want nagemaakte kopieën van deze markt stelen elke dag tegoeden. Versleutel uw "
        "adres met de sleutel van de verkoper, oude berichten worden na dertig dagen verwijderd."
    )),
}
FAQ_PATHS = {"en": "/faq", "fr": "/fr/faq", "de": "/de/faq", "nl": "/nl/faq"}

SHIPPING: dict[str, str] = {
    "en": ("Delivery is digital unless the listing says otherwise. Pay through escrow at checkout, or use the direct "
           "address below only if you have dealt with this vendor before."),
    "fr": ("La livraison est numérique sauf indication contraire dans l'annonce. Payez par le séquestre lors de la "
           "commande, ou utilisez l'adresse directe ci-dessous seulement si vous connaissez déjà ce vendeur."),
    "de": ("Die Lieferung erfolgt digital, sofern das Angebot nichts anderes angibt. Bezahlen Sie an der Kasse über "
           "das Treuhandkonto oder nutzen Sie die direkte Adresse unten nur, wenn Sie diesen Verkäufer bereits "
           "kennen."),
    "nl": ("De levering is digitaal, tenzij de advertentie iets anders vermeldt. Betaal bij het afrekenen via escrow, "
           "of gebruik het directe adres hieronder alleen als u al eerder met deze verkoper zaken deed."),
}


class _Market:
    """One variant of the market: its hosts, addresses and wording."""

    def __init__(self, variant: str, hosts: Mapping[str, str]):
        self.variant = variant
        self.phishing = variant == "phishing"
        self.hosts = hosts
        self.own_host = hosts[variant]
        self.escrow = PHISHING_ESCROW if self.phishing else MARKET_ESCROW
        self.support_contacts = PHISHING_SUPPORT if self.phishing else MARKET_SUPPORT
        self.site_title = f"{MARKET_NAME} (Official Mirror)" if self.phishing else MARKET_NAME

    def vendor_addresses(self, vendor: Vendor) -> tuple[tuple[str, str], ...]:
        return vendor.phishing_addresses if self.phishing else vendor.market_addresses

    def page(self, doc: Doc, title: str, main: str) -> Page:
        lang = doc.truth.language
        words = LABELS[lang]
        nav = " | ".join(
            f'<a href="{path}">{escape(words[label])}</a>'
            for path, label in (("/", "home"), ("/listings", "listings"), ("/vendors", "vendors"),
                                ("/payment", "payment"), (FAQ_PATHS[lang], "faq"), ("/support", "support"),
                                ("/pgp", "pgp"))
        )
        languages = " ".join(f'<a href="{path}">{code.upper()}</a>' for code, path in FAQ_PATHS.items())
        forum = doc.onion_link(f"http://{self.hosts['forum']}/", "Forum")
        directory = doc.onion_link(f"http://{self.hosts['directory']}/", "Links")
        if self.phishing:
            footer = (f"&copy; 2023-2026 {MARKET_NAME} &mdash; official mirror, always up to date. "
                      f"Powered by ShadowStall. {forum} &middot; {directory}")
        else:
            footer = f"&copy; 2023-2026 {MARKET_NAME}. Powered by ShadowStall. {forum} &middot; {directory}"
        body = (
            f'<header><h1 class="logo"><a href="/">{escape(self.site_title)}</a></h1>\n<nav>{nav}</nav>\n'
            f'<div class="languages">{languages}</div></header>\n<main>\n<h2>{escape(title)}</h2>\n{main}\n</main>\n'
            f"<footer>{footer}</footer>"
        )
        head = f'<meta name="generator" content="{escape(MARKET_SOFTWARE)}">\n'
        return Page(html_page(lang, f"{title} | {self.site_title}", body, head=head))

    def contact(self, doc: Doc, contact: Contact) -> str:
        if contact.network == "email":
            return doc.email(contact.value, contact.shown)
        if contact.shown.startswith("https://t.me/"):
            doc.handle(contact.network, contact.value, contact.shown)
            return f'<a href="{escape(contact.shown)}">{escape(contact.shown)}</a>'
        return doc.handle(contact.network, contact.value, contact.shown)

    def product_row(self, doc: Doc, product: Product) -> str:
        return (
            f'<tr><td><a href="/product/{product.id}">{escape(product.title)}</a></td>'
            f"<td>{doc.vendor_link(product.vendor)}</td><td>{price(product)}</td></tr>"
        )

    def table(self, doc: Doc, products: list[Product]) -> str:
        rows = "\n".join(self.product_row(doc, product) for product in products)
        return f'<table class="listings">\n<tr><th>Item</th><th>Vendor</th><th>Price</th></tr>\n{rows}\n</table>'

    # --- pages -----------------------------------------------------------------------------------------------------

    def home(self) -> Built:
        doc = Doc("en")
        categories = "\n".join(
            f'<li><a href="/category/{c.slug}">{escape(c.title)}</a> &mdash; {escape(c.blurb)}</li>' for c in CATEGORIES
        )
        featured = self.table(doc, [p for p in PRODUCTS if p.id in (101, 106, 110, 108)])
        warning = (
            "Bookmark this address and check the signed mirror list on the PGP page before every login. "
            if not self.phishing
            else "This is the only official mirror, all other addresses are fake and steal your coins. "
        )
        main = (
            f"<p>Welcome to {MARKET_NAME}, an escrow market for digital goods, software, guides and services. "
            f"{warning}Vendors are vetted by staff and every vendor publishes a PGP key on its profile. "
            f"Prices are shown in euro, bitcoin and monero at the current exchange rate of the market.</p>\n"
            f"<h3>Categories</h3>\n<ul>\n{categories}\n</ul>\n<h3>Featured listings</h3>\n{featured}\n"
            f'<p><a href="/listings">All listings</a> &middot; <a href="/vendors">All vendors</a></p>'
        )
        return Built(self.page(doc, "Home", main), doc.truth)

    def listings(self, number: int, pages: int) -> Built:
        doc = Doc("en")
        start = (number - 1) * LISTINGS_PER_PAGE
        chunk = list(PRODUCTS[start:start + LISTINGS_PER_PAGE])
        pager = " ".join(
            f"<strong>{n}</strong>" if n == number else f'<a href="{listing_path(n)}">{n}</a>'
            for n in range(1, pages + 1)
        )
        main = (
            f"<p>All listings of the market, newest first. Every item is paid through escrow and can be disputed "
            f"for fourteen days. Listings in other languages are marked by the vendor. This is page {number} of "
            f"{pages}.</p>\n{self.table(doc, chunk)}\n<p class=\"pager\">Page: {pager}</p>"
        )
        return Built(self.page(doc, f"Listings, page {number}", main), doc.truth)

    def category(self, slug: str) -> Built:
        doc = Doc("en")
        category = next(c for c in CATEGORIES if c.slug == slug)
        products = [p for p in PRODUCTS if p.category == slug]
        main = (
            f"<p>{escape(category.blurb)} There are {len(products)} listings in this category right now. "
            f"Read the vendor's profile and feedback before you buy. Disputes are handled by the market staff.</p>\n"
            f"{self.table(doc, products)}"
        )
        return Built(self.page(doc, category.title, main), doc.truth)

    def product(self, product: Product) -> Built:
        doc = Doc(product.language)
        words = LABELS[product.language]
        vendor = VENDOR_BY_NAME[product.vendor]
        category = next(c for c in CATEGORIES if c.slug == product.category)
        currency, address = self.vendor_addresses(vendor)[0]
        main = (
            f'<div class="product">\n<p class="price">{words["price"]}: {price(product)}</p>\n'
            f'<p class="sold-by">{words["sold_by"]} {doc.vendor_link(vendor.name)}</p>\n'
            f'<p>{words["category"]}: <a href="/category/{category.slug}">{escape(category.title)}</a></p>\n'
            f'<div class="description"><p>{escape(product.description)}</p></div>\n'
            f"<p>{escape(SHIPPING[product.language])}</p>\n"
            f'<p class="direct">{words["direct"]} ({currency}): <code>{doc.address(currency, address)}</code></p>\n'
            f"</div>"
        )
        return Built(self.page(doc, product.title, main), doc.truth)

    def vendors(self) -> Built:
        doc = Doc("en")
        rows = "\n".join(
            f"<tr><td>{doc.vendor_link(v.name)}</td><td>{escape(v.since)}</td>"
            f"<td>{sum(1 for p in PRODUCTS if p.vendor == v.name)}</td></tr>"
            for v in VENDORS
        )
        main = (
            "<p>Every vendor on this market paid a bond and passed a review by the staff. Check the PGP key on the "
            "profile before you send an encrypted address. Vendors who leave the market keep their profile page for "
            "one year.</p>\n"
            f'<table class="vendors">\n<tr><th>Vendor</th><th>Member since</th><th>Listings</th></tr>\n{rows}\n</table>'
        )
        return Built(self.page(doc, "Vendors", main), doc.truth)

    def vendor(self, vendor: Vendor) -> Built:
        doc = Doc(vendor.language)
        words = LABELS[vendor.language]
        doc.vendor(vendor.name)
        contacts = "\n".join(f"<li>{self.contact(doc, c)}</li>" for c in vendor.contacts)
        addresses = "\n".join(
            f"<li>{currency}: <code>{doc.address(currency, address)}</code></li>"
            for currency, address in self.vendor_addresses(vendor)
        )
        products = "\n".join(
            f'<li><a href="/product/{p.id}">{escape(p.title)}</a> &mdash; {price(p)}</li>'
            for p in PRODUCTS if p.vendor == vendor.name
        )
        main = (
            f'<div class="vendor-profile">\n<h3 class="vendor-name">{escape(vendor.name)}</h3>\n'
            f'<p>{words["member"]}: {escape(vendor.since)}</p>\n<p class="bio">{escape(vendor.bio)}</p>\n'
            f'<h3>{words["contact"]}</h3>\n<ul class="contacts">\n{contacts}\n</ul>\n'
            f'<h3>{words["direct"]}</h3>\n<ul class="addresses">\n{addresses}\n</ul>\n'
            f'<h3>{words["products"]}</h3>\n<ul>\n{products}\n</ul>\n'
            f'<h3>{words["key"]}</h3>\n{doc.pgp(key(vendor.key))}\n</div>'
        )
        return Built(self.page(doc, vendor.name, main), doc.truth)

    def payment(self) -> Built:
        doc = Doc("en")
        items = []
        for currency, kind, address in self.escrow:
            shown = doc.address(currency, address)
            if kind.startswith("legacy"):
                shown = f'<a href="bitcoin:{address}">{shown}</a>'
            items.append(f"<li>{escape(kind)}: <code>{shown}</code></li>")
        listing = "\n".join(items)
        main = (
            "<p>Deposits go to the market escrow wallet below. Send only bitcoin to the bitcoin addresses and only "
            "monero to the monero address; coins sent on other networks are lost. Deposits are credited after two "
            "confirmations for bitcoin and ten for monero. Use any of the bitcoin address types your wallet "
            "supports, they all reach the same escrow.</p>\n"
            f'<ul class="escrow">\n{listing}\n</ul>\n'
            "<p>Never send coins to an address you received by private message: staff will never ask you to.</p>"
        )
        return Built(self.page(doc, "Payment instructions", main), doc.truth)

    def faq(self, lang: str) -> Built:
        doc = Doc(lang)
        title, text = FAQ[lang]
        return Built(self.page(doc, title, f"<p>{escape(text)}</p>"), doc.truth)

    def support(self) -> Built:
        doc = Doc("en")
        contacts = "\n".join(f"<li>{self.contact(doc, c)}</li>" for c in self.support_contacts)
        main = (
            "<p>Open a support ticket from your account for anything about an order. For problems with logging in, "
            "write to the staff using the contacts below. Staff never ask for your password or your PIN, and never "
            "ask you to pay outside the escrow.</p>\n"
            f'<ul class="contacts">\n{contacts}\n</ul>'
        )
        return Built(self.page(doc, "Support", main), doc.truth)

    def pgp(self) -> Built:
        doc = Doc("en")
        mirror = doc.onion(self.own_host)
        main = (
            "<p>All announcements of the staff are signed with the key below. Import it and verify the signature of "
            "the mirror list before you enter your password. If a mirror is not in the signed list, it is a "
            "phishing site and you should leave immediately.</p>\n"
            f'<p>Official mirror: <code>{mirror}</code></p>\n{doc.pgp(key("nocturne-market"))}'
        )
        return Built(self.page(doc, "PGP key and mirrors", main), doc.truth)


def price(product: Product) -> str:
    """The price line: EUR, then BTC and XMR at the market's fixed rates."""
    return f"&euro;{product.eur:.2f} / {product.eur / BTC_EUR:.8f} BTC / {product.eur / XMR_EUR:.4f} XMR"


def listing_path(number: int) -> str:
    """The path of listings page *number* (page 1 is ``/listings``, never ``?page=1``: one URL per page)."""
    return "/listings" if number == 1 else f"/listings?page={number}"


def build_market(variant: str, hosts: Mapping[str, str]) -> dict[str, Built]:
    """Build the ``market`` or ``phishing`` variant; return path -> page and truth. *hosts*: site name -> hostname."""
    market = _Market(variant, hosts)
    pages: dict[str, Built] = {"/": market.home()}
    count = (len(PRODUCTS) + LISTINGS_PER_PAGE - 1) // LISTINGS_PER_PAGE
    for number in range(1, count + 1):
        pages[listing_path(number)] = market.listings(number, count)
    for category in CATEGORIES:
        pages[f"/category/{category.slug}"] = market.category(category.slug)
    for product in PRODUCTS:
        pages[f"/product/{product.id}"] = market.product(product)
    pages["/vendors"] = market.vendors()
    for vendor in VENDORS:
        pages[f"/vendor/{vendor.name}"] = market.vendor(vendor)
    pages["/payment"] = market.payment()
    for lang, path in FAQ_PATHS.items():
        pages[path] = market.faq(lang)
    pages["/support"] = market.support()
    pages["/pgp"] = market.pgp()
    return pages
