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
DARKCRAWL_ES_USERNAME = ""  # basic auth user (managed node: elastic, read from its credentials file)
DARKCRAWL_ES_PASSWORD = ""  # basic auth password; never logged
DARKCRAWL_ES_API_KEY = ""  # API key (base64 id:key), preferred over basic auth; never logged
DARKCRAWL_ES_CA_CERTS = ""  # CA file to verify the cluster's TLS certificate
DARKCRAWL_ES_INDEX_PREFIX = "darkcrawl"  # aliases <prefix>-pages/-entities/-crawls: teams can share a cluster
DARKCRAWL_ES_ENABLED = True  # index pages (the indexing pipeline stage); off: crawl and extract only
DARKCRAWL_ES_BULK_DOCS = 500  # documents per bulk request at most
DARKCRAWL_ES_BULK_BYTES = 5 * 1024 * 1024  # bytes per bulk request at most (approximate, JSON size)
DARKCRAWL_ES_FLUSH_INTERVAL = 5.0  # seconds a document may wait in the buffer
DARKCRAWL_ES_MAX_RETRIES = 5  # retries of transient bulk failures (backoff 1, 2, 4 ... 30 s), then the spool
DARKCRAWL_SPOOL_MAX_BYTES = 2 * 1024**3  # disk the indexing spool may use while Elasticsearch is away; 0: no limit
DARKCRAWL_ES_VERSION = "9.5.4"  # the managed node's distribution (Maven Central integ-test-zip)
DARKCRAWL_ES_HOME = ""  # empty: /var/lib/darkcrawl/elasticsearch when root, else $DARKCRAWL_DATA_DIR/elasticsearch
DARKCRAWL_ES_PORT = 9200  # HTTP port of the managed node (127.0.0.1 only)
DARKCRAWL_ES_HEAP = "1g"  # Java heap of the managed node (-Xms/-Xmx)
DARKCRAWL_ES_USER = "darkcrawl"  # system user the managed node runs as when darkcrawl runs as root
DARKCRAWL_JAVA_HOME = ""  # empty: the newest Temurin JDK under /usr/lib/jvm

# --- darkcrawl: Kibana (darkcrawl kibana import) -----------------------------------------------------------------
DARKCRAWL_KIBANA_URL = ""  # Kibana's base URL for darkcrawl kibana import (--url wins), e.g. https://kibana:5601
DARKCRAWL_KIBANA_SPACE = ""  # Kibana space to import into (--space wins); empty: the default space
DARKCRAWL_KIBANA_USERNAME = ""  # basic auth user for Kibana
DARKCRAWL_KIBANA_PASSWORD = ""  # basic auth password for Kibana; never logged
DARKCRAWL_KIBANA_API_KEY = ""  # API key (base64 id:key) for Kibana, preferred over basic auth; never logged
DARKCRAWL_KIBANA_CA_CERTS = ""  # CA file to verify Kibana's TLS certificate

# --- darkcrawl: Tor ----------------------------------------------------------------------------------------------
DARKCRAWL_TOR_BINARY = "tor"  # the tor executable (Debian's tor)
DARKCRAWL_TOR_SOCKS = ""  # host:port of an existing tor's SocksPort; empty: darkcrawl launches its own tor
DARKCRAWL_TOR_CONTROL = ""  # host:port of that tor's ControlPort
DARKCRAWL_TOR_CONTROL_PASSWORD = ""  # empty: cookie authentication
DARKCRAWL_TOR_INSTANCES = 1  # tor processes darkcrawl launches; sites are spread over them by a stable hash
DARKCRAWL_TOR_BOOTSTRAP_TIMEOUT = 300  # seconds to wait for 100% bootstrap before failing the crawl
DARKCRAWL_TOR_ALLOW_REMOTE_SOCKS = False  # accept a SOCKS port on a non-loopback host (hostnames then cross a network)
DARKCRAWL_TOR_NEW_CIRCUIT_AFTER = 3  # consecutive connection failures on one site before it gets a fresh circuit
DARKCRAWL_TOR_ISOLATION_SECRET = ""  # salt of the per-site SOCKS usernames (kept out of tor's memory in the clear)
DARKCRAWL_TOR_BASE_PORT = 19050  # first SOCKS/control port pair of the tor instances darkcrawl launches
DARKCRAWL_TOR_EXTRA_CONFIG: list[str] = []  # extra torrc lines for launched instances ("Option value")
DARKCRAWL_TOR_CHECK_INTERVAL = 15  # seconds between Tor health checks during a crawl; a dead Tor pauses the crawl
DARKCRAWL_TOR_WAIT = 300  # seconds a paused crawl waits for a tor it did not launch, then stops (tor_unavailable)
DARKCRAWL_TOR_LAUNCHED = ""  # set by darkcrawl: torrc (JSON) of the tors it launched, restarted if they die mid-crawl
DARKCRAWL_TOR_NEWNYM_AFTER = 2  # fresh circuits of one site failing this many times in a row: NEWNYM; 0: never
DARKCRAWL_TOR_EXTRA_SOCKS = 2  # extra SocksPorts on each tor darkcrawl launches, one per browser context (0-8)

# --- darkcrawl: the Tor lab (private Tor network on loopback) -----------------------------------------------------
DARKCRAWL_LAB_DIR = ""  # empty: $DARKCRAWL_DATA_DIR/lab
DARKCRAWL_LAB_BASE_PORT = 17000  # the lab's ports are allocated from here upwards
DARKCRAWL_LAB_READY_TIMEOUT = 240  # seconds `lab up` waits for every onion to answer through the client
DARKCRAWL_LAB_EXTRA_SOCKS = 2  # extra client SOCKS ports (0-8), one per browser context to isolate
DARKCRAWL_LAB_TOR_GENCERT = "tor-gencert"  # makes the lab authorities' v3 keys (Debian's tor package)

# --- darkcrawl: crawling -----------------------------------------------------------------------------------------
DARKCRAWL_ALLOW_CLEARNET = False  # fetch clearnet hosts at all (always through Tor)
DARKCRAWL_FOLLOW_CLEARNET = False  # with clearnet allowed, also follow links onto clearnet hosts not in the seeds
DARKCRAWL_FOLLOW_LINKS = True  # follow links from fetched pages; false (crawl --depth 0): fetch the seeds only
DARKCRAWL_FOLLOW_NEW_ONIONS = False  # follow links onto onions that are not among the seed sites
DARKCRAWL_MAX_PAGES = 0  # requests a crawl schedules in all; 0: no limit
DARKCRAWL_MAX_PAGES_PER_SITE = 1000  # requests scheduled per site; 0: no limit
DARKCRAWL_PROGRESS_INTERVAL = 10  # seconds between progress lines
DARKCRAWL_CRAWL_ID = ""  # empty: a new id per crawl (the CLI sets it)
DARKCRAWL_ALLOWED_CONTENT_TYPES = [  # media types downloaded; anything else is cut off at the headers
    "text/html",
    "application/xhtml+xml",
    "text/plain",
]
DARKCRAWL_RESPONSE_MAX_TIME = 180  # seconds a whole response may take (DOWNLOAD_TIMEOUT bounds each read); 0: no limit
DARKCRAWL_MAX_PATTERN_CHAIN = 10  # links repeating the URL pattern of their page this many times in a row: a trap
DARKCRAWL_MAX_PATH_REPEATS = 3  # one path segment more often than this in a URL (/a/b/a/b/a/b): a trap
DARKCRAWL_DENIED_EXTENSIONS = [  # URL path extensions never requested
    # images, audio, video: possibly illegal to possess, never downloaded
    "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "ico", "svg", "heic", "avif",
    "mp3", "wav", "ogg", "flac", "m4a", "aac", "mp4", "m4v", "mkv", "avi", "mov", "wmv", "webm", "flv", "mpg", "mpeg",
    # archives, documents, executables, disk images
    "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "zst", "iso", "img", "dmg",
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "epub",
    "exe", "msi", "apk", "bin", "dll", "so", "deb", "rpm", "jar", "torrent",
    "css", "js", "woff", "woff2", "ttf", "otf", "eot",
]

# --- darkcrawl: rendering pages that need JavaScript (crawler/render, docs/rendering.md) ---------------------------
DARKCRAWL_RENDER = False  # render pages in Chromium through Tor: meta, DARKCRAWL_RENDER_SITES, render=1 seeds, JS gates
DARKCRAWL_RENDER_SITES: list[str] = []  # hosts whose pages are always rendered (with DARKCRAWL_RENDER on)
DARKCRAWL_RENDER_JS_GATES = True  # fetch a plain page once more in the browser when it looks like a JavaScript gate
DARKCRAWL_RENDER_SOCKS = ""  # Tor SOCKS host:port list, one browser context each; empty: launched tor's extra ports
DARKCRAWL_RENDER_BROWSER = "/usr/bin/chromium"  # the Chromium executable (Debian's; Playwright's download is not used)
DARKCRAWL_RENDER_PAGE_TIMEOUT = 60.0  # seconds a page may take to load before its render fails
DARKCRAWL_RENDER_SETTLE = 1.0  # seconds at most waited after load for the page's own requests to finish
DARKCRAWL_RENDER_MAX_PAGES = 4  # browser pages open at once
DARKCRAWL_RENDER_MAX_CONTEXTS = 4  # browser contexts open at once (one per SOCKS port, plus ones closing)
DARKCRAWL_RENDER_PAGES_PER_CONTEXT = 50  # pages a context renders before it is closed (cookies, cache) and replaced
DARKCRAWL_RENDER_MAX_MEMORY_MB = 1024  # browser memory (RSS, all its processes) that triggers a restart; 0: unwatched
DARKCRAWL_RENDER_SCREENSHOTS = False  # full-page PNG per rendered page in <data dir>/screenshots, SHA-256 in the index
# --- darkcrawl: distributed crawl (crawler/frontier, docs/distributed.md) ----------------------------------------
DARKCRAWL_REDIS_URL = ""  # empty: single-host crawl, no Redis; redis://host:6379/0: workers share one frontier there
DARKCRAWL_REDIS_PREFIX = "darkcrawl"  # Redis key prefix of the shared frontier (one crawl project per prefix)
DARKCRAWL_REDIS_BLOOM_CAPACITY = 10_000_000  # URLs the duplicate filter is sized for (3.4 MiB per million at 1e-6)
DARKCRAWL_REDIS_BLOOM_ERROR_RATE = 1e-6  # false-positive rate at capacity: the share of new URLs wrongly skipped
DARKCRAWL_REDIS_FINGERPRINT_TTL = 0  # seconds before a seen URL may be crawled again (forgotten after 1-2x); 0: never
DARKCRAWL_REDIS_LEASE_TIMEOUT = 60.0  # seconds without heartbeat before a worker's in-flight requests are re-queued
DARKCRAWL_REDIS_POLITENESS = True  # hold CONCURRENT_REQUESTS_PER_DOMAIN and DOWNLOAD_DELAY across all workers
DARKCRAWL_WORKER_ID = ""  # this worker's name in Redis; empty: host-pid-random
DARKCRAWL_WORKER_IDLE_EXIT = 0.0  # seconds the shared frontier stays empty before a worker stops; 0: wait for work

# --- darkcrawl: evidence (crawler/evidence, docs/evidence.md) ---------------------------------------------------------
DARKCRAWL_WARC_ENABLED = False  # write every response and its request to WARC files, and a manifest per crawl
DARKCRAWL_WARC_DIR = ""  # empty: $DARKCRAWL_DATA_DIR/warc
DARKCRAWL_WARC_MAX_BYTES = 1024**3  # a WARC file is fsynced, hashed and closed past this size; the next one begins
DARKCRAWL_WARC_PREFIX = "darkcrawl"  # WARC file names: <prefix>-<UTC start>-<crawl id>-<serial>.warc.gz

# --- darkcrawl: safety (crawler/safety, README "Safety") -----------------------------------------------------------
DARKCRAWL_BLOCKLIST_FILES: list[str] = []  # blocklist files (hostnames, MD5/SHA-1/SHA-256 of hostnames)
DARKCRAWL_BLOCKLIST_HOSTS: list[str] = []  # more blocklist entries inline (same forms as a file line)
DARKCRAWL_HIGH_RISK_TERMS: list[str] = []  # high-risk term files that stop a site; empty: the shipped placeholder
DARKCRAWL_HIGH_RISK_MIN_TERMS = 1  # distinct high-risk terms a page needs to stop its site

# --- darkcrawl: recurring crawls, recrawl policy, health (crawler/scheduling, docs/operations.md) ------------------
DARKCRAWL_STATUS_INTERVAL = 5  # seconds between rewrites of a crawl's status file (<data dir>/crawls/); 0: none
DARKCRAWL_SCHEDULER_MAX_CRAWLS = 2  # crawls the scheduler runs at the same time
DARKCRAWL_SCHEDULER_TICK = 1.0  # seconds between the scheduler's looks at due runs, budgets and ended crawls
DARKCRAWL_SCHEDULER_STOP_GRACE = 60  # seconds a crawl gets to stop cleanly (SIGINT) before it is killed
DARKCRAWL_SCRAPYD_URL = ""  # empty: crawls run as local processes; set: runs are Scrapyd jobs on that server
DARKCRAWL_SCRAPYD_PROJECT = "darkcrawl"  # the Scrapyd project darkcrawl was deployed as (scrapyd-deploy)
DARKCRAWL_METRICS_HOST = "127.0.0.1"  # address of the scheduler's Prometheus endpoint (loopback: not exposed)
DARKCRAWL_METRICS_PORT = 9465  # port of the scheduler's Prometheus endpoint; 0: no endpoint
DARKCRAWL_RECRAWL_TRACK_SITES = True  # every crawl updates the per-site state in the sites index
DARKCRAWL_RECRAWL_INTERVAL = 86400  # seconds between visits of a live site whose pages do not change (the most)
DARKCRAWL_RECRAWL_MIN_INTERVAL = 3600  # floor: seconds between visits of a fast-changing or just-failed site
DARKCRAWL_RECRAWL_MAX_INTERVAL = 14 * 86400  # cap: seconds between visits of a dead site, after backing off
DARKCRAWL_RECRAWL_BACKOFF = 2.0  # factor of the interval per consecutive failure (dead) or per unchanged visit
DARKCRAWL_RECRAWL_RETIRE_AFTER = 30 * 86400  # seconds a site may stay dead before it is retired (no more visits)
DARKCRAWL_RECRAWL_RETIRED_PROBE = 90 * 86400  # seconds between probes of a retired site; 0: never visit it again

# --- darkcrawl: extraction (pipelines/extract, docs/signals.md) -----------------------------------------------------
DARKCRAWL_EXTRACT_ENABLED = True  # run the extraction stage (signals, language, title, text, links) on every page
DARKCRAWL_WATCHLISTS: list[str] = []  # watch-list YAML files; empty: the shipped watchlists/default.yaml
DARKCRAWL_VENDOR_RULES: list[str] = []  # vendor-rule YAML files; empty: the shipped rules/example_sites.yaml
DARKCRAWL_LANGUAGE_SAMPLE = 1000  # characters of prose (long lines first) read by language detection
DARKCRAWL_EXTRACT_WORKERS = 0  # extraction worker processes; 0: one per core this process may use
DARKCRAWL_EXTRACT_TIMEOUT = 10.0  # seconds one page's extraction may take; then its worker is killed, the page marked
DARKCRAWL_EXTRACT_NICE = 10  # CPU priority given up by extraction workers (nice increment, 0-19): the reactor first
DARKCRAWL_EXTRACT_MAX_PER_KIND = 1000  # values kept per page of each signal kind; more are counted in signals.capped

# --- darkcrawl: alerts (crawler/alerts, pipelines/watching.py, README "Watch and warn") ---------------------------
DARKCRAWL_ALERTS_ENABLED = True  # check new or changed pages against the active watches during a crawl
DARKCRAWL_ALERTS_BATCH = 100  # pages checked together: one mget of stored hashes, one bulk of alerts
DARKCRAWL_ALERTS_BATCH_WAIT = 0.5  # seconds a page waits at most for its batch to fill before it is checked
DARKCRAWL_ALERTS_HUNT_BATCH = 500  # pages a retro-hunt (watch hunt) reads and checks per request

# --- darkcrawl: notifications (crawler/notify, docs/notify.md) -------------------------------------------------------
DARKCRAWL_NOTIFY_TARGETS: dict[str, str] = {}  # named targets: name -> Apprise URL ([darkcrawl.notify_targets]); secret
DARKCRAWL_NOTIFY_DEFAULT_TARGETS: list[str] = []  # targets (names or URLs) of watches that name none
DARKCRAWL_NOTIFY_INTERVAL = 2.0  # seconds between delivery rounds (crawl, scheduler; a new one starts at once); 0: off
DARKCRAWL_NOTIFY_RETRY_BASE = 10.0  # seconds before the first retry of a failing target; doubled per failure
DARKCRAWL_NOTIFY_RETRY_MAX = 900.0  # cap of the retry delay (jitter 50-100% on top of the exponential)
DARKCRAWL_NOTIFY_DEAD_AFTER = 3.0  # days a notification may stay undelivered before it goes to dead/ (retry-dead)
DARKCRAWL_NOTIFY_TIMEOUT = 15.0  # seconds a target may take to connect and to answer
DARKCRAWL_NOTIFY_CLOSE_WAIT = 30.0  # seconds a closing crawl spends at most on its last delivery round
DARKCRAWL_NOTIFY_WORKERS = 4  # watch-and-target streams delivered at once (a slow target holds up no other)

# --- darkcrawl: sharing (crawler/export, docs/sharing.md) ----------------------------------------------------------
DARKCRAWL_EXPORT_ORG = "darkcrawl"  # your organisation's name in exported MISP events (Orgc) and STIX (identity)
DARKCRAWL_MISP_URL = ""  # MISP instance export misp --push sends events to (--push URL wins)
DARKCRAWL_MISP_API_KEY = ""  # MISP API key (--api-key-file wins); never logged
DARKCRAWL_MISP_CA_CERTS = ""  # CA file to verify the MISP instance's TLS certificate (--misp-ca-certs wins)

# --- Scrapy ------------------------------------------------------------------------------------------------------
ROBOTSTXT_OBEY = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"

# Every HTTP(S) download goes through Tor (crawler/tor/handler.py); there is no other handler for http/https.
DOWNLOAD_HANDLERS = {
    "http": "crawler.tor.handler.TorOnlyDownloadHandler",
    "https": "crawler.tor.handler.TorOnlyDownloadHandler",
    "ftp": None,
    "s3": None,
    "file": None,
    "data": None,
}
DOWNLOADER_MIDDLEWARES = {
    "crawler.safety.middleware.SafetyMiddleware": 50,  # blocklist first; last to see responses, before the spider
    "crawler.fetch.content.ContentPolicyMiddleware": 90,
    "crawler.fetch.privacy.IgnoreSiteReferrerPolicyMiddleware": 100,  # a site's Referrer-Policy never applies
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,  # replaced by the offline one below
    "crawler.fetch.cookies.OfflineCookiesMiddleware": 699,  # Scrapy's, never downloading the suffix list
    # hostile responses (crawler/fetch/limits.py): bombs counted, redirects checked before RedirectMiddleware (600)
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.fetch.limits.BoundedCompressionMiddleware": 590,
    "crawler.fetch.encoding.EncodingMiddleware": 585,  # WHATWG decoding, before meta refresh (580) reads the text
    "crawler.fetch.limits.HostileResponseMiddleware": 610,
    "crawler.tor.routing.TorRoutingMiddleware": 700,  # before HttpProxyMiddleware (750), which reads meta["proxy"]
    "crawler.render.middleware.RenderMiddleware": 720,  # after the Tor refusals; off unless DARKCRAWL_RENDER
    # JavaScript gates read on the way back: after decompression (590) and decoding (585), before meta refresh (580)
    "crawler.render.middleware.RenderGateMiddleware": 582,
    "crawler.frontier.politeness.SitePolitenessMiddleware": 880,  # distributed only: per-site tokens in Redis
    "crawler.evidence.middleware.WarcMiddleware": 890,  # DARKCRAWL_WARC_ENABLED: responses as received, to WARC
}
SPIDER_MIDDLEWARES = {
    "crawler.frontier.middleware.LeaseSpiderMiddleware": 5,  # distributed only: when a leased request is done
}
EXTENSIONS = {
    "crawler.tor.health.TorHealthExtension": 100,
    "crawler.progress.ProgressExtension": 200,
    "crawler.sink.crawlrecord.CrawlRecordExtension": 300,  # the crawl's record in the crawls index (start and close)
    "crawler.frontier.worker.FrontierWorkerExtension": 310,  # distributed only: heartbeat, re-queue, idle stop
    "crawler.scheduling.crawlstatus.CrawlStatusExtension": 210,
    "crawler.scheduling.sites.SiteStateExtension": 220,
    "crawler.notify.extension.NotifyExtension": 400,  # delivers alerts' notifications in a thread (crawler/notify)
}
ITEM_PIPELINES = {
    "pipelines.extraction.ExtractionPipeline": 300,  # signals (pure functions in pipelines/extract)
    "pipelines.watching.WatchingPipeline": 700,  # watches -> alerts, before indexing (off when no watch is active)
    "pipelines.indexing.ElasticsearchPipeline": 800,  # bulk indexing into the pages alias
}

# Onion defaults: slow, fragile services behind 6 hops; be patient and gentle, breadth first.
USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; rv:140.0) Gecko/20100101 Firefox/140.0"  # Tor Browser 15
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.5",
    "Upgrade-Insecure-Requests": "1",
}
DOWNLOAD_TIMEOUT = 90
RETRY_ENABLED = True
RETRY_TIMES = 2
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0.5  # +-50%: no fixed rhythm for a site to recognise
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024
DOWNLOAD_WARNSIZE = 1024 * 1024
DEPTH_LIMIT = 5
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
REDIRECT_MAX_TIMES = 5
URLLENGTH_LIMIT = 2083  # longer links are never requested (counted as darkcrawl/hostile/url_too_long)
COOKIES_ENABLED = True  # Scrapy keys cookies by domain: no cookie crosses sites
REFERRER_POLICY = "same-origin"  # no Referer on a request to another site: a site never learns where we came from
LOGSTATS_INTERVAL = 0  # darkcrawl's own progress line replaces Scrapy's
# Per response, Scrapy starts CONCURRENT_ITEMS tasks to take the spider's output (100 by default): the onion spider
# yields one page item then its links, so 4 still keep the item's pipeline and the links' scheduling apart, for a
# quarter of the CPU (#16: 0.45 -> 0.11 ms a response).
CONCURRENT_ITEMS = 4
# Scrapy's list but TunnelError, which only its HTTP/1.1 handler raises (a crawl downloads through the Tor handler
# alone): loading it imported that handler and three deprecated classes Scrapy builds with inspect.stack, 0.1-0.2 s of
# every crawl's start (#16). tests/unit/test_crawl_settings.py keeps it Scrapy's list otherwise.
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.CannotResolveHostError",
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    OSError,
]
# Scrapy re-reads a callback's source (tokenize, ast: 1.8 ms) to warn about a generator returning a value, whenever
# its cache of bound methods misses: every few responses (#16). tests/unit/test_crawl_settings.py checks instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
LOG_INSTALL_ROOT_HANDLER = False  # the darkcrawl CLI owns logging (crawler/cli/__init__.py)
