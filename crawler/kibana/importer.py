"""Import saved objects into Kibana through its saved objects API. Documented in deploy/README.md ("Kibana").

* :class:`KibanaConfig` -- where Kibana is and how to authenticate (``DARKCRAWL_KIBANA_*``); ``from_settings``.
* :func:`import_objects` -- ``POST [/s/<space>]/api/saved_objects/_import`` (multipart, ``kbn-xsrf``), returning an
  :class:`ImportResult`; :class:`~crawler.errors.ServiceError` with one line for an unreachable Kibana, an untrusted
  certificate, refused credentials or an answer that is not an import result.

Authentication is an API key (``Authorization: ApiKey ...``, preferred) or basic auth; TLS is verified against
``DARKCRAWL_KIBANA_CA_CERTS`` when set, else the system's CAs. Credentials never appear in messages or logs.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from crawler.errors import ServiceError, UsageError
from crawler.redact import mask_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

IMPORT_PATH = "/api/saved_objects/_import"
TIMEOUT = 60.0
SPACE_PATTERN = re.compile(r"[a-z0-9_-]+")


@dataclass(frozen=True)
class KibanaConfig:
    """Kibana's base URL, the space to import into ('' = default), credentials and the CA file."""

    url: str
    space: str = ""
    api_key: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    ca_certs: str = ""

    @classmethod
    def from_settings(cls, settings: BaseSettings, url: str | None = None, space: str | None = None) -> KibanaConfig:
        """Read ``DARKCRAWL_KIBANA_*``; *url* and *space* (command-line options) win. Raises :class:`UsageError`
        for a missing or malformed URL, credentials inside the URL, a bad space id or a missing CA file."""
        base = (url or str(settings.get("DARKCRAWL_KIBANA_URL") or "")).strip().rstrip("/")
        if not base:
            raise UsageError("no Kibana URL: give --url https://kibana.example:5601 or set DARKCRAWL_KIBANA_URL")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"Kibana URL {mask_url(base)!r} must look like https://host:5601 (http:// or https://)")
        if parts.username or parts.password:
            raise UsageError(
                "the Kibana URL contains credentials: remove them and set DARKCRAWL_KIBANA_USERNAME/_PASSWORD or "
                "DARKCRAWL_KIBANA_API_KEY"
            )
        chosen_space = (space if space is not None else str(settings.get("DARKCRAWL_KIBANA_SPACE") or "")).strip()
        if chosen_space and not SPACE_PATTERN.fullmatch(chosen_space):
            raise UsageError(f"Kibana space {chosen_space!r} is not a space id (lower-case letters, digits, '_', '-')")
        ca_certs = str(settings.get("DARKCRAWL_KIBANA_CA_CERTS") or "")
        if ca_certs and not Path(ca_certs).is_file():
            raise UsageError(f"DARKCRAWL_KIBANA_CA_CERTS={ca_certs} does not exist: give the CA certificate file (PEM)")
        return cls(
            url=base,
            space=chosen_space,
            api_key=str(settings.get("DARKCRAWL_KIBANA_API_KEY") or ""),
            username=str(settings.get("DARKCRAWL_KIBANA_USERNAME") or ""),
            password=str(settings.get("DARKCRAWL_KIBANA_PASSWORD") or ""),
            ca_certs=ca_certs,
        )

    @property
    def import_url(self) -> str:
        space = f"/s/{self.space}" if self.space and self.space != "default" else ""
        return f"{self.url}{space}{IMPORT_PATH}"

    def headers(self) -> dict[str, str]:
        headers = {"kbn-xsrf": "darkcrawl", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"ApiKey {self.api_key}"
        return headers

    def auth(self) -> httpx.BasicAuth | None:
        return httpx.BasicAuth(self.username, self.password) if self.username and not self.api_key else None

    def verify(self) -> ssl.SSLContext | bool:
        """The TLS verification httpx applies. Raises :class:`UsageError` when the CA file is not PEM certificates."""
        if not self.ca_certs:
            return True
        try:
            return ssl.create_default_context(cafile=self.ca_certs)
        except (ssl.SSLError, OSError) as exc:
            raise UsageError(
                f"DARKCRAWL_KIBANA_CA_CERTS={self.ca_certs} is not a readable PEM CA certificate ({exc})"
            ) from None

    def credentials_hint(self) -> str:
        if self.api_key:
            return "check DARKCRAWL_KIBANA_API_KEY"
        if self.username:
            return "check DARKCRAWL_KIBANA_USERNAME and DARKCRAWL_KIBANA_PASSWORD"
        return "set DARKCRAWL_KIBANA_API_KEY, or DARKCRAWL_KIBANA_USERNAME and DARKCRAWL_KIBANA_PASSWORD"


@dataclass
class ImportResult:
    """Kibana's answer: ``success``, ``successCount`` and the objects it refused (``errors``)."""

    success: bool
    success_count: int
    errors: list[dict[str, Any]]

    def error_lines(self) -> list[str]:
        """One line per refused object: what it is and why, with the fix when there is one."""
        return [describe_error(error) for error in self.errors]


def describe_error(error: dict[str, Any]) -> str:
    reason = error.get("error") or {}
    kind = str(reason.get("type", "unknown"))
    what = f"{error.get('type', '?')} {error.get('id', '?')}"
    if error.get("title") or (error.get("meta") or {}).get("title"):
        what += f" ({error.get('title') or error['meta']['title']})"
    if kind == "conflict" or kind == "ambiguous_conflict":
        return f"{what}: already exists in Kibana; rerun with --overwrite to replace it"
    if kind == "missing_references":
        missing = ", ".join(f"{ref.get('type')} {ref.get('id')}" for ref in reason.get("references", []))
        return f"{what}: references objects that are neither in the file nor in Kibana: {missing}"
    if kind == "unsupported_type":
        return f"{what}: this Kibana does not know the type (Kibana 9.x is needed)"
    message = reason.get("message") or reason.get("reason") or ""
    return f"{what}: {kind}{': ' + str(message) if message else ''}"


def import_objects(
    config: KibanaConfig, ndjson: str, overwrite: bool = False, filename: str = "darkcrawl.ndjson",
    timeout: float = TIMEOUT,
) -> ImportResult:
    """Send *ndjson* to Kibana's import API and return what it answered. Raises :class:`ServiceError`."""
    params = {"overwrite": "true"} if overwrite else {}
    files = {"file": (filename, ndjson.encode("utf-8"), "application/ndjson")}
    where = mask_url(config.url)
    verify = config.verify()
    try:
        with httpx.Client(verify=verify, timeout=timeout, trust_env=False) as client:
            response = client.post(
                config.import_url, params=params, files=files, headers=config.headers(),
                auth=config.auth() or httpx.USE_CLIENT_DEFAULT,
            )
    except httpx.ConnectError as exc:
        if _is_certificate_error(exc):
            raise ServiceError(
                f"Kibana at {where}: its TLS certificate is not trusted ({_certificate_reason(exc)}): set "
                "DARKCRAWL_KIBANA_CA_CERTS to the CA file that signed it"
            ) from None
        raise ServiceError(f"Kibana at {where} cannot be reached ({exc}): check the URL and that Kibana runs") from None
    except httpx.TimeoutException:
        raise ServiceError(f"Kibana at {where} did not answer within {timeout:.0f}s: check it is healthy") from None
    except httpx.HTTPError as exc:
        raise ServiceError(f"Kibana at {where} failed: {type(exc).__name__}: {exc}") from None
    return read_answer(config, response)


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _certificate_reason(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "verification failed")
        seen = seen.__cause__ or seen.__context__
    return "certificate verify failed"


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip().replace("\n", " ")[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:200]


def read_answer(config: KibanaConfig, response: httpx.Response) -> ImportResult:
    """Turn Kibana's HTTP answer into an :class:`ImportResult`, or a :class:`ServiceError` saying what to fix."""
    where = mask_url(config.url)
    status = response.status_code
    if status == 401:
        raise ServiceError(f"Kibana at {where} refused the credentials (401): {config.credentials_hint()}")
    if status == 403:
        raise ServiceError(
            f"Kibana at {where} denied the import (403): the user needs the saved objects management privilege in "
            f"space {config.space or 'default'}; {_message(response)}"
        )
    if status == 404:
        raise ServiceError(
            f"no saved objects API at {config.import_url} (404): give Kibana's base URL (with its basePath, if any) "
            "and an existing space"
        )
    if status == 413:
        raise ServiceError(
            f"Kibana at {where} refused the file as too large (413): raise savedObjects.maxImportPayloadBytes"
        )
    if status != 200:
        raise ServiceError(f"Kibana at {where} answered HTTP {status}: {_message(response) or 'no message'}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        raise ServiceError(
            f"{where} answered 200 but not with a saved objects import result (is it Kibana?): "
            f"{response.text.strip()[:120]!r}"
        )
    errors = body.get("errors") or []
    return ImportResult(bool(body["success"]), int(body.get("successCount") or 0), list(errors))
