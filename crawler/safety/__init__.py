"""Safety by default: sites never to fetch, and pages whose content stops a site's crawl (README, "Safety").

* :mod:`crawler.safety.blocklist` -- blocklists of plain and hashed hostnames (the formats public onion indexes use);
* :mod:`crawler.safety.highrisk` -- the operator's high-risk terms (child-abuse terms, typically) found in a page;
* :mod:`crawler.safety.middleware` -- the downloader middleware applying both to every request and response.
"""
