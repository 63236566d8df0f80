"""darkcrawl's analysis plugin for Elasticsearch: built with Maven, installed with the node's
``bin/elasticsearch-plugin``. Documented in docs/schema.md (Language analysis).

The Java sources (stable plugin API, Lucene's analysis-common) are in ``crawler/es/analysis-plugin/``; they provide
the analyzers of the pages' language and folded sub-fields (:data:`ANALYZERS`). This module offers:

* :data:`PLUGIN_NAME` -- the plugin's name, as ``GET _nodes/plugins`` lists it.
* :func:`build_id` -- the hash naming one build: the sources, the Elasticsearch and the Lucene versions.
* :func:`installed_build` -- the build installed in a distribution, or None.
* :func:`ensure_plugin` -- idempotent: build the plugin zip (cached by :func:`build_id`) and install it into the
  distribution; a second call only checks. A running node loads it only after a restart.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.errors import ServiceError

PLUGIN_NAME = "darkcrawl-analysis"
SOURCES = Path(__file__).with_name("analysis-plugin")
DESCRIPTOR = "stable-plugin-descriptor.properties"
# The analyzers the plugin provides (Java: @NamedComponent); the page mapping names them (crawler/es/templates.py).
ANALYZERS = ("darkcrawl_english", "darkcrawl_french", "darkcrawl_dutch", "darkcrawl_german", "darkcrawl_folded")
MAVEN_TIMEOUT = 1800

Say = Callable[[str], None]


def source_files() -> list[Path]:
    """The files the plugin is built from (pom, Java, descriptor, assembly), sorted; ``target/`` left out.

    Raises :class:`ServiceError` when this installation of darkcrawl lacks them (a package built without them)."""
    if not (SOURCES / "pom.xml").is_file():
        raise ServiceError(f"the analysis plugin's sources are missing ({SOURCES / 'pom.xml'}): reinstall darkcrawl "
                           "from its repository (pip install -e .)")
    return sorted(path for path in SOURCES.rglob("*") if path.is_file() and "target" not in path.relative_to(
        SOURCES).parts)


def lucene_version(distribution: Path) -> str:
    """The Lucene version the distribution ships, from its ``lib/lucene-core-<version>.jar``: the plugin is compiled
    against exactly that one."""
    for jar in (distribution / "lib").glob("lucene-core-*.jar"):
        match = re.fullmatch(r"lucene-core-(.+)\.jar", jar.name)
        if match:
            return match.group(1)
    raise ServiceError(f"no lucene-core jar in {distribution / 'lib'}: reinstall Elasticsearch (darkcrawl es install)")


def build_id(es_version: str, lucene: str) -> str:
    """12 hex digits of SHA-256 over the plugin's sources and the versions it is built against."""
    digest = hashlib.sha256(f"{es_version}\0{lucene}\0".encode())
    for path in source_files():
        digest.update(path.relative_to(SOURCES).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def installed_build(distribution: Path) -> str | None:
    """The build id of the plugin installed in *distribution* (from its descriptor's ``version=1.0.0+<id>``), ``""``
    for a plugin of that name with no build id, or None when none is installed."""
    descriptor = distribution / "plugins" / PLUGIN_NAME / DESCRIPTOR
    if not descriptor.is_file():
        return None
    match = re.search(r"^version=[^+\n]*\+(\S+)", descriptor.read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1) if match else ""


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build or install at a time per Elasticsearch home (test sessions may start at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _last_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    error = next((line for line in lines if "ERROR" in line or "Exception" in line), lines[-1] if lines else "")
    return error[:300] or "no output"


def build_plugin(cache: Path, es_version: str, lucene: str, jdk: Path, say: Say) -> Path:
    """The plugin zip for these versions: ``<cache>/darkcrawl-analysis-<build id>.zip``, built with Maven (``mvn -q
    package`` on a copy of the sources, with *jdk*) unless present. Raises :class:`ServiceError` when Maven is
    missing or the build fails (the Maven error line in the message)."""
    build = build_id(es_version, lucene)
    target = cache / f"{PLUGIN_NAME}-{build}.zip"
    if target.is_file():
        say(f"analysis plugin {build} already built: {target}")
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError("Maven (mvn) is missing; it builds darkcrawl's analysis plugin: run ./setup.sh or "
                           "apt-get install maven")
    work = cache / f"build-{build}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(SOURCES, work, ignore=shutil.ignore_patterns("target"))
    say(f"building the analysis plugin {build} with Maven (Elasticsearch {es_version}, Lucene {lucene})")
    env = dict(os.environ, JAVA_HOME=str(jdk))
    try:
        result = subprocess.run(
            [mvn, "-q", "-B", "package", f"-Delasticsearch.version={es_version}", f"-Dlucene.version={lucene}",
             f"-Dplugin.build={build}"],
            cwd=work, env=env, capture_output=True, text=True, timeout=MAVEN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise ServiceError("Maven did not build the analysis plugin in 30 minutes: check access to Maven "
                           "Central") from None
    built = next(iter((work / "target").glob(f"{PLUGIN_NAME}-*.zip")), None)
    if result.returncode != 0 or built is None:
        raise ServiceError(f"Maven could not build the analysis plugin ({_last_error(result.stdout + result.stderr)}):"
                           f" the sources are in {SOURCES}; Maven Central must be reachable the first time")
    os.replace(built, target)
    shutil.rmtree(work, ignore_errors=True)
    return target


def _plugin_tool(distribution: Path, jdk: Path, *args: str) -> None:
    tool = distribution / "bin" / "elasticsearch-plugin"
    env = dict(os.environ, ES_JAVA_HOME=str(jdk))
    env.pop("ES_PATH_CONF", None)  # the distribution's own config/: the plugin tool writes nothing there for us
    result = subprocess.run([str(tool), *args], env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise ServiceError(f"elasticsearch-plugin {args[0]} failed ({_last_error(result.stdout + result.stderr)}): "
                           f"check {distribution / 'plugins'}")


def ensure_plugin(distribution: Path, es_version: str, jdk: Path, cache: Path, say: Say) -> bool:
    """Build (or reuse) the plugin for this distribution and install it there; True when something changed.

    An older build of the plugin is removed first. Raises :class:`ServiceError` (Maven, the plugin tool)."""
    lucene = lucene_version(distribution)
    build = build_id(es_version, lucene)
    with _locked(cache / ".lock"):
        found = installed_build(distribution)
        if found == build:
            say(f"analysis plugin {PLUGIN_NAME} {build} already installed")
            return False
        archive = build_plugin(cache, es_version, lucene, jdk, say)
        if found is not None:
            say(f"removing the analysis plugin's older build {found or '(unknown)'}")
            _plugin_tool(distribution, jdk, "remove", "--purge", PLUGIN_NAME)
        _plugin_tool(distribution, jdk, "install", "--batch", archive.resolve().as_uri())
    say(f"analysis plugin {PLUGIN_NAME} {build} installed; a node already running loads it only when restarted "
        "(darkcrawl es stop, then darkcrawl es start), then run darkcrawl es init")
    return True
