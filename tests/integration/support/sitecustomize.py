"""Loaded by the crawl subprocess of the DNS-leak test (PYTHONPATH): records every name resolution it attempts.

Each call to ``socket.getaddrinfo``/``gethostbyname``/``gethostbyname_ex`` appends the host to the file named by
``DARKCRAWL_TEST_DNS_LOG`` before resolving, so the test can prove no crawled host was ever resolved locally.
"""

import os
import socket

_log_path = os.environ.get("DARKCRAWL_TEST_DNS_LOG")

if _log_path:
    _real_getaddrinfo = socket.getaddrinfo
    _real_gethostbyname = socket.gethostbyname
    _real_gethostbyname_ex = socket.gethostbyname_ex

    def _record(host):
        with open(_log_path, "a", encoding="utf-8") as handle:
            handle.write(f"{host}\n")

    def getaddrinfo(host, *args, **kwargs):
        _record(host)
        return _real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host):
        _record(host)
        return _real_gethostbyname(host)

    def gethostbyname_ex(host):
        _record(host)
        return _real_gethostbyname_ex(host)

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
