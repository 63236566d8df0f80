"""darkcrawl's configuration: Scrapy settings, overlaid by a TOML config file, overlaid by the environment.

Precedence, lowest first: the defaults in :mod:`crawler.settings`; the config file (``--config``, ``DARKCRAWL_CONFIG``,
or ``darkcrawl.toml`` in the data directory); ``DARKCRAWL_*`` environment variables; command-line options.

The config file has a ``[darkcrawl]`` table whose keys are the setting names without their prefix, in lower case
(``es_url = "https://es.example:9200"`` sets ``DARKCRAWL_ES_URL``), and an optional ``[scrapy]`` table of plain Scrapy
settings (``DOWNLOAD_DELAY = 2``). Unknown keys and values of the wrong type are errors naming the key.

Every number, whether from the file or the environment, is checked here, once: finite, and within the bounds of
:data:`NUMBER_BOUNDS` (at least 0 for a ``DARKCRAWL_*`` number not listed there); the Scrapy settings of
:data:`SCRAPY_NUMBERS` likewise. A config file that holds a secret and can be read by group or others is read, with a
warning saying ``chmod 600``.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler import settings as default_settings
from crawler.errors import UsageError
from crawler.redact import is_secret_setting

if TYPE_CHECKING:  # imported when settings are built: the CLI's parser and `darkcrawl extract` start without Scrapy
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

PREFIX = "DARKCRAWL_"
TEST_PREFIX = "DARKCRAWL_TEST_"  # read by the test suite only, never a setting


class ConfigError(UsageError):
    """A configuration value is missing, unknown or of the wrong type; the message says which and how to fix it."""


# Bounds of numeric settings, (lowest, highest), either None for no bound; a DARKCRAWL_* number not listed: at least 0.
NUMBER_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "DARKCRAWL_ES_BULK_DOCS": (1, None),
    "DARKCRAWL_ES_BULK_BYTES": (1, None),
    "DARKCRAWL_ES_PORT": (1, 65535),
    "DARKCRAWL_TOR_INSTANCES": (1, 64),
    "DARKCRAWL_TOR_BASE_PORT": (1, 65535),
    "DARKCRAWL_TOR_EXTRA_SOCKS": (0, 8),
    "DARKCRAWL_LAB_BASE_PORT": (1, 65535),
    "DARKCRAWL_LAB_EXTRA_SOCKS": (0, 8),
    "DARKCRAWL_MAX_PATTERN_CHAIN": (1, None),
    "DARKCRAWL_MAX_PATH_REPEATS": (1, None),
    "DARKCRAWL_RENDER_MAX_PAGES": (1, None),
    "DARKCRAWL_RENDER_MAX_CONTEXTS": (1, None),
    "DARKCRAWL_RENDER_PAGES_PER_CONTEXT": (1, None),
    "DARKCRAWL_REDIS_BLOOM_CAPACITY": (1, None),
    "DARKCRAWL_REDIS_BLOOM_ERROR_RATE": (0, 1),
    "DARKCRAWL_WARC_MAX_BYTES": (1, None),
    "DARKCRAWL_HIGH_RISK_MIN_TERMS": (1, None),
    "DARKCRAWL_SCHEDULER_MAX_CRAWLS": (1, None),
    "DARKCRAWL_METRICS_PORT": (0, 65535),
    "DARKCRAWL_RECRAWL_BACKOFF": (1, None),
    "DARKCRAWL_LANGUAGE_SAMPLE": (1, None),
    "DARKCRAWL_EXTRACT_WORKERS": (0, 256),
    # the Scrapy settings darkcrawl relies on (SCRAPY_NUMBERS says which type each one takes)
    "CONCURRENT_REQUESTS": (1, None),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (1, None),
    "CONCURRENT_ITEMS": (1, None),
    "DEPTH_LIMIT": (0, None),
    "URLLENGTH_LIMIT": (1, None),
}
# Numbers that must be more than their lowest bound, not equal to it: waits and timeouts of 0 would spin or fail all.
POSITIVE = frozenset({
    "DARKCRAWL_TOR_BOOTSTRAP_TIMEOUT", "DARKCRAWL_TOR_CHECK_INTERVAL", "DARKCRAWL_LAB_READY_TIMEOUT",
    "DARKCRAWL_RENDER_PAGE_TIMEOUT", "DARKCRAWL_REDIS_LEASE_TIMEOUT", "DARKCRAWL_SCHEDULER_TICK",
    "DARKCRAWL_REDIS_BLOOM_ERROR_RATE", "DOWNLOAD_TIMEOUT", "DARKCRAWL_EXTRACT_TIMEOUT",
})
# Scrapy settings a [scrapy] table may set that must be numbers: int or float (int accepted for a float).
SCRAPY_NUMBERS: dict[str, type] = {
    "CONCURRENT_REQUESTS": int, "CONCURRENT_REQUESTS_PER_DOMAIN": int, "CONCURRENT_ITEMS": int, "DEPTH_LIMIT": int,
    "DEPTH_PRIORITY": int, "RETRY_TIMES": int, "REDIRECT_MAX_TIMES": int, "URLLENGTH_LIMIT": int,
    "DOWNLOAD_MAXSIZE": int, "DOWNLOAD_WARNSIZE": int, "DOWNLOAD_TIMEOUT": float, "DOWNLOAD_DELAY": float,
    "DOWNLOAD_DELAY_JITTER": float, "AUTOTHROTTLE_START_DELAY": float, "AUTOTHROTTLE_MAX_DELAY": float,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": float, "CLOSESPIDER_TIMEOUT": float, "CLOSESPIDER_ITEMCOUNT": int,
    "CLOSESPIDER_PAGECOUNT": int, "CLOSESPIDER_ERRORCOUNT": int, "LOGSTATS_INTERVAL": float,
}  # fmt: skip
EXCLUSIVE_HIGH = frozenset({"DARKCRAWL_REDIS_BLOOM_ERROR_RATE"})  # a rate of 1: every URL "seen"
SIGNED = frozenset({"DEPTH_PRIORITY"})  # numbers that may be negative (Scrapy: negative depth priority = DFO)


def check_number(name: str, value: int | float, origin: str) -> int | float:
    """Return *value* if it is finite and within the bounds of *name*; else raise :class:`ConfigError` naming both."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{origin}: {name} must be a finite number, got {value}")
    if name in SIGNED:
        return value
    low, high = NUMBER_BOUNDS.get(name, (0, None))
    if name in POSITIVE and value <= (low or 0):
        raise ConfigError(f"{origin}: {name} must be more than {low or 0}, got {value}")
    if low is not None and high is not None and not low <= value <= high:
        raise ConfigError(f"{origin}: {name} must be between {low} and {high}, got {value}")
    if low is not None and value < low:
        raise ConfigError(f"{origin}: {name} must be at least {low}, got {value}")
    if name in EXCLUSIVE_HIGH and value >= (high or 0):
        raise ConfigError(f"{origin}: {name} must be less than {high}, got {value}")
    return value


def _scrapy_value(name: str, value: Any, origin: str) -> Any:
    """A ``[scrapy]`` table value, checked when it is one of :data:`SCRAPY_NUMBERS`."""
    expected = SCRAPY_NUMBERS.get(name)
    if expected is None:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or (expected is int and isinstance(value, float)):
        raise ConfigError(f"{origin}: [scrapy] {name} must be a{'n int' if expected is int else ' number'}, "
                          f"got {value!r}")
    return check_number(name, value, origin)


def darkcrawl_defaults() -> dict[str, Any]:
    """Every ``DARKCRAWL_*`` setting with its default value."""
    return {name: getattr(default_settings, name) for name in dir(default_settings) if name.startswith(PREFIX)}


def _coerce(name: str, value: Any, default: Any, origin: str) -> Any:
    """Return *value* converted to the type of *default*, or raise :class:`ConfigError` naming *origin*."""
    expected = type(default)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.strip().lower() in {"1", "true", "yes", "on"}
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return check_number(name, value, origin)
        if isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                pass
            else:
                return check_number(name, number, origin)
    elif isinstance(default, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return check_number(name, float(value), origin)
        if isinstance(value, str):
            try:
                real = float(value.strip())
            except ValueError:
                pass
            else:
                return check_number(name, real, origin)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, list):
        items: Any = None
        if isinstance(value, list):
            items = value
        elif isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except ValueError:
                    items = None
            else:
                items = [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(items, list):
            wrong = [item for item in items if not isinstance(item, str)]
            if not wrong:
                return items
            raise ConfigError(f"{origin}: {name} must be a list of strings, got {wrong[0]!r} in it")
    elif isinstance(default, dict) and isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    elif isinstance(value, expected):
        return value
    shown = "a value of another type" if is_secret_setting(name) else repr(value)
    raise ConfigError(f"{origin}: {name} must be a {expected.__name__}, got {shown}")


def _config_file_path(explicit: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path | None:
    if explicit:
        return Path(explicit)
    if environ.get("DARKCRAWL_CONFIG"):
        return Path(environ["DARKCRAWL_CONFIG"])
    from crawler.paths import data_dir  # late import: paths reads settings too

    candidate = data_dir(environ=environ) / "darkcrawl.toml"
    return candidate if candidate.is_file() else None


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse *path* and return the settings it sets, by full setting name. Raises :class:`ConfigError`."""
    document = _parse_toml(path)
    defaults = darkcrawl_defaults()
    values: dict[str, Any] = {}
    origin = f"config file {path}"
    unknown_tables = set(document) - {"darkcrawl", "scrapy"}
    if unknown_tables:
        raise ConfigError(f"{origin}: unknown table(s) {sorted(unknown_tables)}; use [darkcrawl] or [scrapy]")
    for table in ("darkcrawl", "scrapy"):
        if not isinstance(document.get(table, {}), dict):
            raise ConfigError(f"{origin}: {table} must be a table ([{table}] and key = value lines under it), "
                              f"got {document[table]!r}")
    for key, value in document.get("darkcrawl", {}).items():
        name = PREFIX + key.upper()
        if name not in defaults:
            raise ConfigError(f"{origin}: unknown key {key!r} in [darkcrawl] (see README, Configuration)")
        values[name] = _coerce(name, value, defaults[name], origin)
    for key, value in document.get("scrapy", {}).items():
        if key.startswith(PREFIX):
            raise ConfigError(f"{origin}: {key} belongs in [darkcrawl] as {key[len(PREFIX):].lower()!r}")
        values[key] = _scrapy_value(key, value, origin)
    _warn_if_readable(path, values)
    return values


def _parse_toml(path: Path) -> dict[str, Any]:
    """The TOML document in *path* (a UTF-8 byte-order mark allowed). Raises :class:`ConfigError`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist: create it or unset DARKCRAWL_CONFIG") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory: give the path of a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}): "
                          "save it as UTF-8") from None
    import tomllib  # only when there is a config file: most commands have none

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config file {path} nests arrays or tables too deeply to read: flatten it") from None


def _warn_if_readable(path: Path, values: Mapping[str, Any]) -> None:
    """Warn when *path* holds a secret (a password, a key, a URL with a password) and group or others may read it."""
    secrets = sorted(
        name for name, value in values.items()
        if value and (is_secret_setting(name) or (isinstance(value, str) and "://" in value and "@" in value))
    )
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if secrets and mode & 0o077:
        logger.warning("config file %s holds a secret (%s) and can be read by others (mode %03o): chmod 600 %s",
                       path, ", ".join(secrets), mode & 0o777, path)


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the ``DARKCRAWL_*`` settings set in *environ*, converted. Raises :class:`ConfigError`."""
    defaults = darkcrawl_defaults()
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(PREFIX) or name.startswith(TEST_PREFIX):
            continue
        if name not in defaults:
            raise ConfigError(f"environment: unknown variable {name} (see README, Configuration); unset it")
        values[name] = _coerce(name, raw, defaults[name], "environment")
    return values


def _layers(
    config_file: str | os.PathLike[str] | None, overrides: Mapping[str, Any] | None, environ: Mapping[str, str] | None
) -> list[tuple[dict[str, Any], str]]:
    """The values over darkcrawl's defaults, lowest first, each with its Scrapy priority: the config file, the
    environment, *overrides*. Checked here (:class:`ConfigError` naming the key)."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[dict[str, Any], str]] = []
    path = _config_file_path(config_file, environ)
    if path is not None:
        layers.append((read_config_file(path), "project"))
    layers.append((read_environment(environ), "cmdline"))
    if overrides:
        layers.append((dict(overrides), "cmdline"))
    return layers


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build darkcrawl's :class:`~scrapy.settings.Settings`: defaults, config file, environment, then *overrides*."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    for values, priority in _layers(config_file, overrides, environ):
        settings.update(values, priority=priority)
    return settings


class SettingValues(dict[str, Any]):
    """darkcrawl's settings as :func:`load_settings` reads and checks them, without Scrapy (nor Scrapy's own
    defaults): for a command that never starts a crawl and should start fast (``darkcrawl extract``). Read-only in
    use; its getters answer as Scrapy's ``Settings`` does for these values."""

    def get(self, name: str, default: Any = None) -> Any:
        value = super().get(name)
        return default if value is None else value

    def getbool(self, name: str, default: bool = False) -> bool:
        value = self.get(name, default)
        try:
            return bool(int(value))
        except ValueError:
            if value in ("True", "true", "False", "false"):
                return value in ("True", "true")
            raise ValueError(f"{name}: {value!r} is not a boolean (0/1, True/False, true/false)") from None

    def getint(self, name: str, default: int = 0) -> int:
        return int(self.get(name, default))

    def getfloat(self, name: str, default: float = 0.0) -> float:
        return float(self.get(name, default))

    def getlist(self, name: str, default: list[Any] | None = None) -> list[Any]:
        value = self.get(name, default or [])
        if not value:
            return []
        return value.split(",") if isinstance(value, str) else list(value)


def load_values(
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> SettingValues:
    """The values :func:`load_settings` gives darkcrawl's settings (same sources, same checks, same errors), as a
    :class:`SettingValues`, without importing Scrapy."""
    values = SettingValues(
        (name, getattr(default_settings, name)) for name in dir(default_settings) if name.isupper()
    )
    for layer, _priority in _layers(config_file, overrides, environ):
        values.update(layer)
    return values
