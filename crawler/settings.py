"""Scrapy settings for darkcrawl, and the one home of every ``DARKCRAWL_*`` default.

Each darkcrawl setting is documented once, in the settings table of README.md. Every one of them can be set by an
environment variable of the same name or in the config file (see :mod:`crawler.config`).
"""

from __future__ import annotations

BOT_NAME = "darkcrawl"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- darkcrawl: where things live ---------------------------------------------------------------------------------
DARKCRAWL_DATA_DIR = ""  # empty: $XDG_DATA_HOME/darkcrawl, else ~/.local/share/darkcrawl (see crawler.paths)
DARKCRAWL_CONFIG = ""  # path of a TOML config file; empty: $DARKCRAWL_DATA_DIR/darkcrawl.toml if it exists

# --- darkcrawl: Elasticsearch ------------------------------------------------------------------------------------
DARKCRAWL_ES_URL = ""  # empty: the managed local node (darkcrawl es start); set: an external cluster, nothing started
DARKCRAWL_ES_USERNAME = ""
DARKCRAWL_ES_PASSWORD = ""
DARKCRAWL_ES_API_KEY = ""
DARKCRAWL_ES_CA_CERTS = ""  # CA file to verify the cluster's TLS certificate
DARKCRAWL_ES_INDEX_PREFIX = "darkcrawl"
DARKCRAWL_ES_VERSION = "9.5.4"  # the managed node's distribution (Maven Central integ-test-zip)
DARKCRAWL_ES_HOME = ""  # empty: /var/lib/darkcrawl/elasticsearch when root, else $DARKCRAWL_DATA_DIR/elasticsearch
DARKCRAWL_ES_PORT = 9200
DARKCRAWL_ES_HEAP = "1g"
DARKCRAWL_ES_USER = "darkcrawl"  # system user the managed node runs as when darkcrawl runs as root
DARKCRAWL_JAVA_HOME = ""  # empty: the newest Temurin JDK under /usr/lib/jvm

# --- darkcrawl: Tor ----------------------------------------------------------------------------------------------
DARKCRAWL_TOR_BINARY = "tor"
DARKCRAWL_TOR_SOCKS = ""  # host:port of an existing tor's SocksPort; empty: darkcrawl launches its own tor
DARKCRAWL_TOR_CONTROL = ""  # host:port of that tor's ControlPort
DARKCRAWL_TOR_CONTROL_PASSWORD = ""  # empty: cookie authentication
DARKCRAWL_TOR_INSTANCES = 1  # tor processes darkcrawl launches; sites are spread over them by a stable hash
DARKCRAWL_TOR_BOOTSTRAP_TIMEOUT = 300  # seconds to wait for 100% bootstrap before failing the crawl

# --- darkcrawl: the Tor lab (private Tor network on loopback) -----------------------------------------------------
DARKCRAWL_LAB_DIR = ""  # empty: $DARKCRAWL_DATA_DIR/lab
DARKCRAWL_LAB_BASE_PORT = 17000  # the lab's ports are allocated from here upwards
DARKCRAWL_LAB_READY_TIMEOUT = 240  # seconds `lab up` waits for every onion to answer through the client

# --- Scrapy ------------------------------------------------------------------------------------------------------
ROBOTSTXT_OBEY = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
