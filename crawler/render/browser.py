"""How darkcrawl's Chromium is launched and what each browser context looks like: pure functions of a
:class:`~crawler.render.config.RenderConfig`. Documented in docs/rendering.md.

* :func:`launch_options` -- Playwright launch options: Debian's Chromium, the Tor SOCKS proxy (Playwright then maps
  every hostname to "not found" locally, so DNS can only happen in Tor), WebRTC restricted to proxied UDP (which SOCKS
  never carries), no QUIC, no background networking.
* :func:`context_options` -- one context's options: its own Tor SOCKS port, no downloads, no service workers, no
  permissions, a Tor-Browser-like user agent, viewport, UTC, en-US.
* :data:`INIT_SCRIPT` -- run in every page before the site's scripts: no ``RTCPeerConnection`` at all, no
  ``<a download>`` clicks.
* :func:`abort_reason` -- why a request the page makes is aborted (route interception), or None.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from crawler.fetch.content import denied_extension
from crawler.identity import refusal_reason
from crawler.render.config import LOCALE, TIMEZONE, VIEWPORT, RenderConfig

CHROMIUM_ARGS = (
    "--no-sandbox",  # needed as root; the browser only ever talks to Tor and renders, it never downloads
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--no-first-run",
    "--no-pings",
    "--disable-quic",  # QUIC is UDP: SOCKS cannot carry it
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,WebRtcHideLocalIpsWithMdns,MediaRouter,"
    "OptimizationHints,Translate,InterestFeedContentSuggestions",  # no https:// probe before each http:// onion
)

# Resource types never fetched: possibly illegal to possess, and slow over Tor.
BLOCKED_RESOURCE_TYPES = frozenset({"image", "media", "font", "manifest", "texttrack"})
# Schemes a page may use without the network.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})

# Run before any site script. WebRTC removed: no peer connection, no ICE candidate, no local address. Clicks on
# <a download> cancelled: Chromium starts such downloads outside the page's request interception.
INIT_SCRIPT = """
(() => {
  for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "RTCDataChannel", "RTCIceCandidate",
                      "RTCSessionDescription"]) {
    try { Object.defineProperty(window, name, {value: undefined, configurable: false, writable: false}); } catch (e) {}
  }
  try {
    if (navigator.mediaDevices) {
      Object.defineProperty(navigator, "mediaDevices", {value: undefined, configurable: false});
    }
  } catch (e) {}
  window.addEventListener("click", (event) => {
    const target = event.target;
    const link = target && target.closest ? target.closest("a[download], area[download]") : null;
    if (link) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
})();
"""


def proxy_server(socks: tuple[str, int]) -> dict[str, str]:
    """Playwright's proxy option for one Tor SOCKS port (``socks5://``: Chromium sends hostnames, Tor resolves them)."""
    host, port = socks
    return {"server": f"socks5://{host}:{port}"}


def launch_options(config: RenderConfig) -> dict[str, Any]:
    """The browser's launch options. The browser-wide proxy is the first Tor SOCKS port: a context without a proxy
    of its own would still go through Tor."""
    if not config.socks:
        raise ValueError("no Tor SOCKS port for the browser: rendering never runs without Tor")
    return {
        "executable_path": config.browser,
        "headless": True,
        "proxy": proxy_server(config.socks[0]),
        "args": list(CHROMIUM_ARGS),
        "chromium_sandbox": False,
        "handle_sigint": False,
        "handle_sigterm": False,
        "handle_sighup": False,
    }


def context_options(config: RenderConfig, slot: int) -> dict[str, Any]:
    """Options of a browser context on the *slot*-th Tor SOCKS port (its streams never share a circuit with another
    port's)."""
    return {
        "proxy": proxy_server(config.socks[slot % len(config.socks)]),
        "accept_downloads": False,
        "service_workers": "block",
        "permissions": [],
        "java_script_enabled": True,
        "ignore_https_errors": True,  # onion addresses authenticate the service; many use self-signed certificates
        "user_agent": config.user_agent,
        "extra_http_headers": {"Accept-Language": config.accept_language},
        "viewport": dict(VIEWPORT),
        "screen": dict(VIEWPORT),
        "device_scale_factor": 1,
        "timezone_id": TIMEZONE,
        "locale": LOCALE,
        "color_scheme": "light",
        "reduced_motion": "reduce",
    }


def abort_reason(config: RenderConfig, url: str, resource_type: str) -> str | None:
    """Return why the page's request for *url* (a Playwright *resource_type*) must be aborted, or None.

    The same refusals as the plain crawl (scheme, invalid onion, clearnet unless allowed, local addresses), plus media,
    fonts and downloadable extensions."""
    scheme = urlsplit(url).scheme.lower() if "://" in url or ":" in url else ""
    if scheme in LOCAL_SCHEMES:
        return None
    if resource_type in BLOCKED_RESOURCE_TYPES:
        return resource_type
    refused = refusal_reason(url, config.allow_clearnet)
    if refused is not None:
        return refused
    if denied_extension(url, config.denied_extensions):
        return "extension"
    return None
