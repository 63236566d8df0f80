"""darkcrawl's configuration: Scrapy settings, overlaid by a TOML config file, overlaid by the environment.

Precedence, lowest first: the defaults in :mod:`crawler.settings`; the config file (``--config``, ``DARKCRAWL_CONFIG``,
or ``darkcrawl.toml`` in the data directory); ``DARKCRAWL_*`` environment variables; command-line options.

The config file has a ``[darkcrawl]`` table whose keys are the setting names without their prefix, in lower case
(``es_url = "https://es.example:9200"`` sets ``DARKCRAWL_ES_URL``), and an optional ``[scrapy]`` table of plain Scrapy
settings (``DOWNLOAD_DELAY = 2``). Unknown keys and values of the wrong type are errors naming the key.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scrapy.settings import Settings

from crawler import settings as default_settings
from crawler.errors import UsageError

PREFIX = "DARKCRAWL_"
TEST_PREFIX = "DARKCRAWL_TEST_"  # read by the test suite only, never a setting


class ConfigError(UsageError):
    """A configuration value is missing, unknown or of the wrong type; the message says which and how to fix it."""


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
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
    elif isinstance(default, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, list) and isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
        else:
            return [part.strip() for part in text.split(",") if part.strip()]
    elif isinstance(default, dict) and isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    elif isinstance(value, expected):
        return value
    raise ConfigError(f"{origin}: {name} must be a {expected.__name__}, got {value!r}")


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
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist: create it or unset DARKCRAWL_CONFIG") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    defaults = darkcrawl_defaults()
    values: dict[str, Any] = {}
    unknown_tables = set(document) - {"darkcrawl", "scrapy"}
    if unknown_tables:
        raise ConfigError(f"config file {path}: unknown table(s) {sorted(unknown_tables)}; use [darkcrawl] or [scrapy]")
    for key, value in document.get("darkcrawl", {}).items():
        name = PREFIX + key.upper()
        if name not in defaults:
            raise ConfigError(f"config file {path}: unknown key {key!r} in [darkcrawl] (see README, Configuration)")
        values[name] = _coerce(name, value, defaults[name], f"config file {path}")
    for key, value in document.get("scrapy", {}).items():
        if key.startswith(PREFIX):
            raise ConfigError(f"config file {path}: {key} belongs in [darkcrawl] as {key[len(PREFIX):].lower()!r}")
        values[key] = value
    return values


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


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build darkcrawl's :class:`~scrapy.settings.Settings`: defaults, config file, environment, then *overrides*."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    path = _config_file_path(config_file, environ)
    if path is not None:
        settings.update(read_config_file(path), priority="project")
    settings.update(read_environment(environ), priority="cmdline")
    if overrides:
        settings.update(dict(overrides), priority="cmdline")
    return settings
