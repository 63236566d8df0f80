"""Elasticsearch clients for darkcrawl: the managed node or an external cluster. Documented in docs/schema.md.

* :func:`connection_options` -- URL and authentication from the settings, as keyword arguments for the client.
* :func:`es_client` -- an :class:`~elasticsearch.AsyncElasticsearch` (the indexing pipeline stage, async tools).
* :func:`es_sync_client` -- an :class:`~elasticsearch.Elasticsearch` (the CLI, ``es init``, tests).
* :func:`check_connection` -- ask the cluster who it is; :class:`~crawler.errors.ServiceError` when it cannot be
  reached or refuses the credentials.
* :func:`client_url` -- the URL a client talks to, for messages.
* :func:`service_error` -- turn a client exception into a one-line :class:`~crawler.errors.ServiceError`.
* :func:`is_transient` -- whether a bulk item's failure is worth retrying (overload, server error, write block).

``DARKCRAWL_ES_URL`` set: that cluster, with ``DARKCRAWL_ES_API_KEY`` or ``DARKCRAWL_ES_USERNAME``/``_PASSWORD`` and
``DARKCRAWL_ES_CA_CERTS``. Unset: the managed node on ``127.0.0.1:DARKCRAWL_ES_PORT`` as the ``elastic`` user, with
the password from its ``es-credentials.json`` (unless a username and password are set explicitly).
"""

from __future__ import annotations

import logging
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from elasticsearch import (
    ApiError,
    AsyncElasticsearch,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
)
from elasticsearch import (
    ConnectionError as EsConnectionError,
)
from elasticsearch import (
    ConnectionTimeout as EsConnectionTimeout,
)
from elasticsearch import (
    SSLError as EsTlsError,
)

from crawler.errors import ServiceError, UsageError
from crawler.redact import mask_text, mask_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

REQUEST_TIMEOUT = 30.0


def quiet_transport_logs() -> None:
    """Keep the transport's per-retry warnings (with tracebacks) out of the console: darkcrawl reports failures
    itself, as one line. Left alone when someone configured that logger's level explicitly."""
    transport_logger = logging.getLogger("elastic_transport")
    if transport_logger.level == logging.NOTSET:
        transport_logger.setLevel(logging.ERROR)


@dataclass(frozen=True)
class Connection:
    """Where the cluster is and how to authenticate; ``managed`` when it is darkcrawl's own node."""

    url: str
    managed: bool
    username: str = ""
    password: str = field(default="", repr=False)
    api_key: str = field(default="", repr=False)
    ca_certs: str = ""

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the (sync or async) Elasticsearch client."""
        kwargs: dict[str, Any] = {"hosts": [self.url], "request_timeout": REQUEST_TIMEOUT}
        if self.api_key:
            kwargs["api_key"] = self.api_key
        elif self.username:
            kwargs["basic_auth"] = (self.username, self.password)
        if self.ca_certs:
            kwargs["ca_certs"] = self.ca_certs
        return kwargs

    def describe(self) -> str:
        return f"{'managed node' if self.managed else 'cluster'} {mask_url(self.url)}"


def connection_options(settings: BaseSettings) -> Connection:
    """Read the cluster's URL and credentials from the settings. Raises :class:`ServiceError` when the managed node
    has no readable credentials file, :class:`UsageError` when a CA file is named but missing or not PEM."""
    url = str(settings.get("DARKCRAWL_ES_URL") or "").rstrip("/")
    username = str(settings.get("DARKCRAWL_ES_USERNAME") or "")
    password = str(settings.get("DARKCRAWL_ES_PASSWORD") or "")
    api_key = str(settings.get("DARKCRAWL_ES_API_KEY") or "")
    ca_certs = str(settings.get("DARKCRAWL_ES_CA_CERTS") or "")
    if ca_certs and not Path(ca_certs).is_file():
        raise UsageError(f"DARKCRAWL_ES_CA_CERTS={ca_certs} does not exist: give the CA certificate file (PEM)")
    if ca_certs:
        try:
            ssl.create_default_context(cafile=ca_certs)
        except (ssl.SSLError, OSError) as exc:
            raise _bad_ca(ca_certs, exc) from None
    if url:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"DARKCRAWL_ES_URL={mask_url(url)!r} must start with http:// or https://")
        if ca_certs and url.startswith("http://"):
            raise UsageError(
                f"DARKCRAWL_ES_CA_CERTS is set but DARKCRAWL_ES_URL={mask_url(url)} is plain HTTP: use https://, or "
                "unset the CA file"
            )
        return Connection(url, False, username, password, api_key, ca_certs)
    from crawler.es.node import NodeInstance, read_credentials

    instance = NodeInstance.from_settings(settings)
    if not api_key and not (username and password):
        credentials = read_credentials(instance)
        username, password = credentials.username, credentials.password
    # the managed node serves plain HTTP on loopback: a CA file has nothing to verify there
    return Connection(instance.url, True, username, password, api_key, "")


def es_client(settings: BaseSettings) -> AsyncElasticsearch:
    """An async client for the configured cluster (no request made yet; see :func:`check_connection_async`).

    Raises :class:`UsageError` for a malformed URL, :class:`ServiceError` when the managed node has no credentials."""
    connection = connection_options(settings)
    quiet_transport_logs()
    try:
        return AsyncElasticsearch(**connection.client_kwargs())
    except ValueError as exc:
        raise _bad_url(connection.url, exc) from None


def es_sync_client(settings: BaseSettings) -> Elasticsearch:
    """A blocking client for the configured cluster (no request made yet; see :func:`check_connection`).

    Raises like :func:`es_client`."""
    connection = connection_options(settings)
    quiet_transport_logs()
    try:
        return Elasticsearch(**connection.client_kwargs())
    except ValueError as exc:
        raise _bad_url(connection.url, exc) from None


def _bad_url(url: str, exc: ValueError) -> UsageError:
    return UsageError(f"DARKCRAWL_ES_URL={mask_url(url)!r} is not usable ({mask_text(str(exc))})")


def _bad_ca(ca_certs: str, exc: Exception) -> UsageError:
    return UsageError(f"DARKCRAWL_ES_CA_CERTS={ca_certs} is not a readable PEM CA certificate ({exc})")


def _exception_text(exc: Exception) -> str:
    """Everything a transport exception says (its str() is only 'Connection error'), for matching causes."""
    return " ".join(str(part) for part in (exc, getattr(exc, "message", ""), getattr(exc, "errors", "")) if part)


def _certificate_problem(exc: Exception) -> str:
    """What the TLS layer said about the server's certificate, without the exception wrapping around it."""
    text = _exception_text(exc)
    match = re.search(r"certificate verify failed: ([^(\]')\"]+)", text)
    return match.group(1).strip() if match else text[:200]


def service_error(exc: Exception, where: str) -> ServiceError:
    """A one-line :class:`ServiceError` for a client exception, saying what to check. *where*: the cluster's URL."""
    if isinstance(exc, AuthenticationException):
        return ServiceError(
            f"Elasticsearch at {where} refused the credentials (401): check DARKCRAWL_ES_USERNAME and "
            "DARKCRAWL_ES_PASSWORD, or DARKCRAWL_ES_API_KEY (managed node: its es-credentials.json)"
        )
    if isinstance(exc, AuthorizationException):
        return ServiceError(f"Elasticsearch at {where} denied the request (403): the user lacks privileges; {exc}")
    if isinstance(exc, EsTlsError):
        return ServiceError(
            f"Elasticsearch at {where}: TLS failed, its certificate is not trusted ({_certificate_problem(exc)}): set "
            "DARKCRAWL_ES_CA_CERTS to the CA file that signed it (PEM)"
        )
    if isinstance(exc, EsConnectionTimeout):
        return ServiceError(f"Elasticsearch at {where} timed out: check it is healthy (darkcrawl es status)")
    if isinstance(exc, EsConnectionError):
        hint = ""
        if where.startswith("http://") and "refused" not in _exception_text(exc).lower():
            hint = " (if it serves HTTPS, use an https:// URL)"
        return ServiceError(
            f"Elasticsearch at {where} cannot be reached{hint}: start it with darkcrawl es start, or fix "
            "DARKCRAWL_ES_URL"
        )
    if isinstance(exc, ApiError):
        return ServiceError(f"Elasticsearch at {where} answered {exc.meta.status}: {exc.message}")
    return ServiceError(f"Elasticsearch at {where} failed: {exc}")


def _version_from_nodes(response: Any) -> str:
    nodes = dict(response).get("nodes", {})
    for node in nodes.values():
        return str(node.get("version", ""))
    return ""


def check_connection(client: Elasticsearch, where: str = "") -> str:
    """Return the server version, or raise :class:`ServiceError` (unreachable, credentials refused, not 9.x).

    Uses the nodes API: ``GET /`` needs the rest-root module, which the managed integ-test distribution lacks."""
    where = where or client_url(client)
    try:
        version = _version_from_nodes(client.nodes.info(node_id="_local", filter_path="nodes.*.version"))
    except Exception as exc:
        raise service_error(exc, where) from None
    return _require_9(version, where)


async def check_connection_async(client: AsyncElasticsearch, where: str = "") -> str:
    """Async :func:`check_connection`."""
    where = where or client_url(client)
    try:
        version = _version_from_nodes(await client.nodes.info(node_id="_local", filter_path="nodes.*.version"))
    except Exception as exc:
        raise service_error(exc, where) from None
    return _require_9(version, where)


def _require_9(version: str, where: str) -> str:
    if not version.startswith("9."):
        raise ServiceError(f"Elasticsearch at {where} is version {version or 'unknown'}; darkcrawl needs 9.x")
    return version


def client_url(client: Elasticsearch | AsyncElasticsearch) -> str:
    try:
        node = client.transport.node_pool.all()[0]
        return f"{node.config.scheme}://{node.config.host}:{node.config.port}"
    except (AttributeError, IndexError):
        return "the configured URL"


TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def is_transient(outcome: dict[str, Any]) -> bool:
    """Whether a bulk item's failure is worth retrying: overload and server errors, and the write block ``es init``
    sets while it moves an alias to a new index (the retry lands in the new one)."""
    status = outcome.get("status", 500)
    error = outcome.get("error")
    blocked = status == 403 and isinstance(error, dict) and error.get("type") == "cluster_block_exception"
    return status in TRANSIENT_STATUSES or blocked
