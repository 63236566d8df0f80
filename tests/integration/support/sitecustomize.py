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

# Every socket a process opens, from Python's audit events: ``DARKCRAWL_TEST_SOCKET_LOG`` names a file that gets one
# JSON line per connect, sendto and name lookup (the leak tests read it beside their packet capture).
_socket_log_path = os.environ.get("DARKCRAWL_TEST_SOCKET_LOG")

if _socket_log_path:
    import json
    import sys

    _AUDITED = {"socket.connect": 1, "socket.sendto": 1, "socket.getaddrinfo": 0, "socket.gethostbyname": 0,
                "socket.gethostbyaddr": 0, "socket.getnameinfo": 0}

    def _audit(event, args):
        if event not in _AUDITED:
            return
        target = args[_AUDITED[event]]
        try:
            with open(_socket_log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"event": event, "target": repr(target), "pid": os.getpid()}) + "\n")
        except Exception:
            pass

    sys.addaudithook(_audit)
