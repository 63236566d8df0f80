"""The Tor lab: a private Tor network on loopback whose onion services serve the fixture sites. Docs: docs/lab.md.

Modules: :mod:`crawler.lab.network` (start, watch, check, stop), :mod:`crawler.lab.torrc` (each node's torrc),
:mod:`crawler.lab.authority` (authority keys and fingerprints), :mod:`crawler.lab.state` (the state file and pid
checks), :mod:`crawler.lab.sites` and :mod:`crawler.lab.serve` (the fixture sites and their HTTP server).
"""
