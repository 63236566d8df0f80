"""The ``forum`` fixture site ("Undertow"): boards, threads with several posters, member profiles.

Posts carry author names, dates and signatures with contact handles; one poster pastes a PGP key the forum mangled
(``<br />`` for line breaks, ``+``, ``/`` and ``=`` as character references), one thread quotes the phishing clone's
escrow address next to the real one, some threads are in French, German and Dutch, and posts link to the other
onions. Threads longer than one page continue at ``/thread/<id>/page/2``. Offers :func:`build_forum`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape

from .data import MARKET_ESCROW, PHISHING_ESCROW, SESSION_CIPHERPUNK, Contact
from .keys import key
from .model import Built, Doc, Page, html_page

FORUM_NAME = "Undertow"
FORUM_SOFTWARE = "DeepBoard 1.9"


@dataclass(frozen=True)
class Member:
    name: str
    joined: str
    title: str
    signature: tuple[Contact, ...]


MEMBERS: tuple[Member, ...] = (
    Member("nightowl", "August 2022", "Administrator",
           (Contact("xmpp", "nightowl@jabber.example.net", "Jabber: nightowl@jabber.example.net"),)),
    Member("cipherpunk", "February 2024", "Member",
           (Contact("session", SESSION_CIPHERPUNK, f"Session: {SESSION_CIPHERPUNK}"),
            Contact("email", "cipherpunk@example.net", "cipherpunk@example.net"))),
    Member("greywolf", "March 2024", "Vendor",
           (Contact("telegram", "greywolf_shop", "Telegram: @greywolf_shop"),)),
    Member("marmotte", "October 2024", "Member",
           (Contact("email", "marmotte@example.net", "marmotte [at] example [dot] net"),)),
    Member("schattenfuchs", "May 2023", "Member",
           (Contact("telegram", "schattenfuchs_de", "Telegram: @schattenfuchs_de"),)),
    Member("tulpenkoning", "December 2024", "Member",
           (Contact("xmpp", "tulpenkoning@xmpp.example.nl", "XMPP: tulpenkoning@xmpp.example.nl"),)),
)
MEMBER_BY_NAME = {member.name: member for member in MEMBERS}

BOARDS: tuple[tuple[str, str, str], ...] = (
    ("general", "General discussion", "Anything that does not fit elsewhere, and the forum's announcements."),
    ("market-reviews", "Market reviews", "Reviews of markets and vendors, scam warnings and mirror lists."),
    ("opsec", "Security and OPSEC", "Encryption, PGP, operating systems and staying anonymous."),
    ("international", "International", "Threads in French, German, Dutch and other languages."),
)

Body = Callable[[Doc, Mapping[str, str]], str]


@dataclass(frozen=True)
class Post:
    author: str
    date: str
    body: Body


@dataclass(frozen=True)
class Thread:
    id: int
    board: str
    title: str
    language: str
    pages: tuple[tuple[Post, ...], ...]


def _p(*sentences: str) -> Body:
    """A post body of plain paragraphs (no signals)."""
    return lambda doc, hosts: "".join(f"<p>{escape(s)}</p>" for s in sentences)


def _mangled_key(doc: Doc) -> str:
    """cipherpunk's key as the forum software mangled it: one line, ``<br />`` breaks, character references."""
    armored = key("cipherpunk").armored.rstrip("\n")
    mangled = escape(armored).replace("+", "&#43;").replace("/", "&#x2F;").replace("=", "&#61;")
    return doc.pgp(key("cipherpunk"), armored=mangled.replace("\n", "<br />"))


def _review_greywolf(doc: Doc, hosts: Mapping[str, str]) -> str:
    market = hosts["market"]
    link = doc.onion_link(f"http://{market}/", f"http://{market}/")
    return (
        "<p>I have ordered from Nocturne three times this winter and everything arrived. The escrow worked, the "
        "support answered within a day, and the vendors I used were honest.</p>"
        f"<p>The market is at {link} and nowhere else, check the signed mirror list before you log in.</p>"
    )


def _greywolf_reply(doc: Doc, hosts: Mapping[str, str]) -> str:
    doc.vendor("greywolf")
    url = f"http://{hosts['market']}/vendor/greywolf"
    return (
        "<p>Thanks for the kind words, mate. My shop is still open and the reship policy has not changed. "
        f"You can find my listings here: {doc.onion_link(url, 'greywolf on Nocturne')}.</p>"
    )


def _scam_warning(doc: Doc, hosts: Mapping[str, str]) -> str:
    fake = doc.onion(hosts["phishing"])
    real_btc = next(address for currency, _kind, address in MARKET_ESCROW if currency == "BTC")
    fake_btc = next(address for currency, _kind, address in PHISHING_ESCROW if currency == "BTC")
    return (
        "<p>WARNING: there is a phishing copy of Nocturne going around in link lists. It looks exactly the same, "
        "same vendors and same keys, but the deposit addresses belong to the scammer.</p>"
        f"<p>The fake one is <code>{fake}</code>. Its deposit page shows "
        f"<code>{doc.address('BTC', fake_btc)}</code> while the real escrow uses "
        f"<code>{doc.address('BTC', real_btc)}</code>. Do not send anything to the first one.</p>"
    )


def _scam_reply_xmr(doc: Doc, hosts: Mapping[str, str]) -> str:
    fake_xmr = next(address for currency, _kind, address in PHISHING_ESCROW if currency == "XMR")
    return (
        "<p>Confirmed, I lost a deposit there last week before I saw this thread. The monero address they gave me "
        f"was <code>{doc.address('XMR', fake_xmr)}</code>, so add that one to your lists too.</p>"
        "<p>Always compare the address with the one in the signed message from the staff.</p>"
    )


def _links_post(doc: Doc, hosts: Mapping[str, str]) -> str:
    paste = doc.onion_link(f"http://{hosts['paste']}/", "the pastebin")
    directory = doc.onion_link(f"http://{hosts['directory']}/", "the link directory")
    return (
        f"<p>For long logs use {paste} instead of posting walls of text here. For a list of working sites, "
        f"{directory} is kept up to date and marks known scams.</p>"
        "<p>Moderators will remove posts that link to phishing sites without a warning.</p>"
    )


def _pgp_post(doc: Doc, hosts: Mapping[str, str]) -> str:
    return (
        "<p>Here is my public key so you can check my messages. The forum breaks the formatting, so copy it "
        "carefully or ask me for the raw file on the pastebin.</p>"
        f'<div class="pasted-key">{_mangled_key(doc)}</div>'
    )


def _german_review(doc: Doc, hosts: Mapping[str, str]) -> str:
    doc.vendor("alpenkraft")
    paste = doc.onion_link(f"http://{hosts['paste']}/", "Pastebin")
    return (
        "<p>Ich habe in den letzten Monaten mehrmals bei diesem Verkäufer bestellt und war jedes Mal zufrieden. "
        "Die Lieferung kam immer innerhalb einer Woche und die Verpackung war unauffällig. Die Kommunikation war "
        "freundlich und alle Nachrichten wurden schnell beantwortet.</p>"
        "<p>Verkäufer: alpenkraft</p>"
        f"<p>Meine vollständige Bewertung mit allen Details habe ich im {paste} veröffentlicht.</p>"
    )


def _dutch_review(doc: Doc, hosts: Mapping[str, str]) -> str:
    doc.vendor("dutchdirect")
    return (
        "<p>Ik zoek al een tijdje naar betrouwbare verkopers die vanuit Nederland verzenden. Na een paar "
        "bestellingen kan ik deze verkoper aanraden, alles kwam netjes en op tijd aan. De communicatie verliep "
        "via Session en dat werkte prima.</p>"
        "<p>Verkoper: dutchdirect</p>"
        "<p>Heeft iemand anders ook ervaring met deze verkoper? Laat het hieronder weten.</p>"
    )


THREADS: tuple[Thread, ...] = (
    Thread(1001, "general", "Welcome to Undertow, read this before posting", "en", ((
        Post("nightowl", "2025-09-01 18:00", _p(
            "Welcome to Undertow, a forum for people who care about privacy and the markets.",
            "Do not post personal information about yourself or anybody else, and do not ask for it.",
            "Use the boards for what they are for; threads in the wrong place will be moved without notice.",
            "Scam warnings are welcome, but bring evidence such as addresses and screenshots of messages.")),
        Post("cipherpunk", "2025-09-02 09:12", _p(
            "Thanks for setting this up. It is good to have a place without the noise of the big boards.",
            "Could we get a board for hardware questions at some point?")),
        Post("nightowl", "2025-09-02 10:40", _p(
            "Good idea, hardware questions can go into Security and OPSEC for now.",
            "If there are enough of them we will open a separate board.")),
    ),)),
    Thread(1002, "market-reviews", "Nocturne Market review: greywolf and quietstorm", "en", ((
        Post("cipherpunk", "2026-01-11 21:07", _review_greywolf),
        Post("greywolf", "2026-01-12 08:30", _greywolf_reply),
        Post("nightowl", "2026-01-12 11:02", _p(
            "Moved to market reviews. Please keep vendor advertising to one post per thread.",
            "Reviews are more useful when they say what went wrong as well as what went right.")),
    ),)),
    Thread(1003, "market-reviews", "SCAM WARNING: fake Nocturne mirror steals deposits", "en", (
        (
            Post("schattenfuchs", "2026-02-03 19:45", _scam_warning),
            Post("cipherpunk", "2026-02-03 20:10", _p(
                "Thanks for the warning. The fake site even copied the vendor keys, so a key alone proves nothing.",
                "Check the mirror list signed by the staff key, not the key of a vendor.")),
        ),
        (
            Post("tulpenkoning", "2026-02-05 07:55", _scam_reply_xmr),
            Post("nightowl", "2026-02-05 09:00", _p(
                "Pinned. The directory marks the fake mirror as a scam now as well.",
                "If you lost money there, post the transaction details so others can recognise the wallet.")),
        ),
    )),
    Thread(1004, "opsec", "Verify PGP keys before you trust anyone", "en", ((
        Post("nightowl", "2026-01-20 16:20", _p(
            "Too many people still send addresses in plain text or trust a key they found in a random post.",
            "Get the key from at least two places you trust and compare the full fingerprint, not the short id.",
            "Anyone can make a key with any name in it, so the user id proves nothing.")),
        Post("cipherpunk", "2026-01-20 17:05", _pgp_post),
    ),)),
    Thread(1005, "international", "Nocturne Market : vos avis en français", "fr", ((
        Post("marmotte", "2026-02-10 22:15", _p(
            "Bonjour à tous, j'ouvre ce fil pour partager nos expériences sur ce marché en français.",
            "J'ai commandé deux fois chez un vendeur français et tout s'est bien passé, avec une livraison rapide.",
            "Le séquestre fonctionne correctement et l'assistance m'a répondu en moins d'une journée.",
            "Faites attention aux faux miroirs qui circulent en ce moment sur les listes de liens.")),
        Post("marmotte", "2026-02-11 08:05", _p(
            "Petite précision : vérifiez toujours la liste des miroirs signée par l'équipe avant de vous connecter.",
            "Les copies frauduleuses reprennent les mêmes vendeurs et les mêmes clés, mais pas les mêmes adresses.",
            "N'envoyez jamais de dépôt à une adresse reçue par message privé.")),
    ),)),
    Thread(1006, "international", "Erfahrungen mit alpenkraft", "de", ((
        Post("schattenfuchs", "2026-02-14 20:30", _german_review),
        Post("schattenfuchs", "2026-02-15 10:12", _p(
            "Nachtrag: Auch die zweite Bestellung dieser Woche ist problemlos angekommen.",
            "Ich empfehle trotzdem, die Adresse immer mit dem öffentlichen Schlüssel des Verkäufers zu verschlüsseln.",
            "Wer Fragen hat, kann mir gerne über Telegram schreiben.")),
    ),)),
    Thread(1007, "international", "Betrouwbare verkopers in Nederland", "nl", ((
        Post("tulpenkoning", "2026-02-18 21:45", _dutch_review),
        Post("tulpenkoning", "2026-02-19 09:30", _p(
            "Nog een tip voor iedereen die net begint met bestellen op deze markt.",
            "Controleer altijd de lijst met officiële spiegels, want er gaan nagemaakte kopieën rond.",
            "Stuur uw adres nooit onversleuteld en gebruik de sleutel die op het profiel van de verkoper staat.")),
    ),)),
    Thread(1008, "general", "Useful links: pastebin and link directory", "en", ((
        Post("nightowl", "2026-01-05 12:00", _links_post),
        Post("cipherpunk", "2026-01-05 12:40", _p(
            "The pastebin also keeps a raw view of every paste, which is handy for keys and logs.",
            "Thanks for keeping the list current.")),
    ),)),
)


def thread_path(thread: Thread, number: int) -> str:
    return f"/thread/{thread.id}" if number == 1 else f"/thread/{thread.id}/page/{number}"


class _Forum:
    def __init__(self, hosts: Mapping[str, str]):
        self.hosts = hosts

    def page(self, doc: Doc, title: str, main: str) -> Page:
        nav = " | ".join(
            f'<a href="{path}">{label}</a>'
            for path, label in (("/", "Board index"), ("/members", "Members"),
                                *((f"/board/{slug}", name) for slug, name, _ in BOARDS))
        )
        market = doc.onion_link(f"http://{self.hosts['market']}/", "Nocturne Market")
        directory = doc.onion_link(f"http://{self.hosts['directory']}/", "Link directory")
        body = (
            f'<div id="header"><h1><a href="/">{FORUM_NAME}</a></h1><div class="nav">{nav}</div></div>\n'
            f'<div id="content">\n<h2>{escape(title)}</h2>\n{main}\n</div>\n'
            f'<div id="footer">{FORUM_NAME} runs on {FORUM_SOFTWARE}. Partners: {market} &middot; {directory}</div>'
        )
        head = f'<meta name="generator" content="{FORUM_SOFTWARE}">\n'
        return Page(html_page(doc.truth.language, f"{title} - {FORUM_NAME}", body, head=head))

    def signature(self, doc: Doc, member: Member) -> str:
        parts = []
        for contact in member.signature:
            if contact.network == "email":
                parts.append(doc.email(contact.value, contact.shown))
            else:
                parts.append(doc.handle(contact.network, contact.value, contact.shown))
        return " &middot; ".join(parts)

    def index(self) -> Built:
        doc = Doc("en")
        boards = "\n".join(
            f'<tr><td><a href="/board/{slug}">{escape(name)}</a><br><small>{escape(blurb)}</small></td>'
            f"<td>{sum(1 for t in THREADS if t.board == slug)}</td></tr>"
            for slug, name, blurb in BOARDS
        )
        latest = "\n".join(
            f'<li><a href="/thread/{t.id}">{escape(t.title)}</a></li>' for t in THREADS[-4:]
        )
        main = (
            f"<p>Welcome to {FORUM_NAME}. Read the rules thread before you post, and never share personal "
            "information. New members can post after their first day. Scam reports need evidence.</p>\n"
            f'<table class="boards">\n<tr><th>Board</th><th>Threads</th></tr>\n{boards}\n</table>\n'
            f"<h3>Latest threads</h3>\n<ul>\n{latest}\n</ul>"
        )
        return Built(self.page(doc, "Board index", main), doc.truth)

    def board(self, slug: str, name: str, blurb: str) -> Built:
        doc = Doc("en")
        rows = "\n".join(
            f'<tr><td><a href="/thread/{t.id}">{escape(t.title)}</a></td>'
            f"<td>{doc.author_link(t.pages[0][0].author)}</td>"
            f"<td>{sum(len(page) for page in t.pages)}</td><td>{t.pages[-1][-1].date}</td></tr>"
            for t in THREADS if t.board == slug
        )
        main = (
            f"<p>{escape(blurb)} Please search before you open a new thread. Off-topic posts are moved.</p>\n"
            f'<table class="threads">\n<tr><th>Thread</th><th>Started by</th><th>Posts</th><th>Last post</th></tr>\n'
            f"{rows}\n</table>"
        )
        return Built(self.page(doc, name, main), doc.truth)

    def thread(self, thread: Thread, number: int) -> Built:
        doc = Doc(thread.language)
        posts = []
        for post in thread.pages[number - 1]:
            member = MEMBER_BY_NAME[post.author]
            posts.append(
                f'<div class="post">\n<div class="author">{doc.author_link(member.name)} '
                f'<span class="rank">{member.title}</span></div>\n<div class="date">{post.date}</div>\n'
                f'<div class="post-body">{post.body(doc, self.hosts)}</div>\n'
                f'<div class="signature">{self.signature(doc, member)}</div>\n</div>'
            )
        pager = ""
        if len(thread.pages) > 1:
            pager = '<p class="pages">Pages: ' + " ".join(
                f"<strong>{n}</strong>" if n == number else f'<a href="{thread_path(thread, n)}">{n}</a>'
                for n in range(1, len(thread.pages) + 1)
            ) + "</p>"
        board = next(name for slug, name, _ in BOARDS if slug == thread.board)
        main = f'<p><a href="/board/{thread.board}">{escape(board)}</a></p>\n' + "\n".join(posts) + f"\n{pager}"
        return Built(self.page(doc, thread.title, main), doc.truth)

    def members(self) -> Built:
        doc = Doc("en")
        rows = "\n".join(
            f"<tr><td>{doc.author_link(m.name)}</td><td>{m.title}</td><td>{m.joined}</td></tr>"
            for m in MEMBERS
        )
        main = (
            "<p>The members of the forum, oldest first. Profiles show the signature and the number of posts. "
            "Inactive members are removed after a year.</p>\n"
            f'<table class="members">\n<tr><th>Name</th><th>Rank</th><th>Joined</th></tr>\n{rows}\n</table>'
        )
        return Built(self.page(doc, "Members", main), doc.truth)

    def member(self, member: Member) -> Built:
        doc = Doc("en")
        count = sum(1 for t in THREADS for page in t.pages for post in page if post.author == member.name)
        threads = "\n".join(
            f'<li><a href="/thread/{t.id}">{escape(t.title)}</a></li>'
            for t in THREADS if any(post.author == member.name for page in t.pages for post in page)
        )
        main = (
            f"<p>{member.name} joined the forum in {member.joined} and has written {count} posts. The rank shown "
            f"is {member.title}. Send a private message to contact this member.</p>\n"
            f'<div class="signature">{self.signature(doc, member)}</div>\n<h3>Threads</h3>\n<ul>\n{threads}\n</ul>'
        )
        return Built(self.page(doc, f"Profile of {member.name}", main), doc.truth)


def build_forum(hosts: Mapping[str, str]) -> dict[str, Built]:
    """Build the forum; return path -> page and truth. *hosts*: site name -> hostname."""
    forum = _Forum(hosts)
    pages: dict[str, Built] = {"/": forum.index()}
    for slug, name, blurb in BOARDS:
        pages[f"/board/{slug}"] = forum.board(slug, name, blurb)
    for thread in THREADS:
        for number in range(1, len(thread.pages) + 1):
            pages[thread_path(thread, number)] = forum.thread(thread, number)
    pages["/members"] = forum.members()
    for member in MEMBERS:
        pages[f"/user/{member.name}"] = forum.member(member)
    return pages
