"""Install the managed Elasticsearch distribution: documented in docs/schema.md (The managed node).

Elasticsearch is in neither Debian, PyPI nor npm; Maven Central serves its ``integ-test-zip`` distribution, which
needs a JDK 21+ (it ships none) and refuses to run as root. This module offers:

* :func:`es_home` -- where the distribution and the managed node live (``DARKCRAWL_ES_HOME``).
* :func:`find_java` / :func:`java_home` -- the JDK the node runs on (``DARKCRAWL_JAVA_HOME``, else the newest
  Temurin under /usr/lib/jvm), checked to be 21+.
* :func:`service_user` -- the system user the node runs as when darkcrawl runs as root, or None otherwise.
* :func:`install` -- idempotent: fetch the zip with Maven, unpack it into the home, create the user, build and
  install darkcrawl's analysis plugin (:mod:`crawler.es.plugin`). Each step it takes (or finds done) is reported
  through a ``say`` callback.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crawler import settings as default_settings
from crawler.errors import ServiceError, UsageError
from crawler.es.plugin import ensure_plugin
from crawler.paths import data_dir

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

MAVEN_GROUP = "org.elasticsearch.distribution.integ-test-zip"
MAVEN_ARTIFACT = "elasticsearch"
# The default maven-dependency-plugin (2.8) is too old for explicit artifact fetches of this kind; 3.8.1 works.
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get"
MIN_JAVA = 21
JVM_ROOT = Path("/usr/lib/jvm")
ROOT_ES_HOME = Path("/var/lib/darkcrawl/elasticsearch")

Say = Callable[[str], None]


def is_root() -> bool:
    return os.geteuid() == 0


def es_home(settings: BaseSettings) -> Path:
    """The directory holding the distribution and the managed node: ``DARKCRAWL_ES_HOME``, else a default that the
    unprivileged node user can reach (``/var/lib/darkcrawl/elasticsearch`` as root, the data directory otherwise)."""
    configured = settings.get("DARKCRAWL_ES_HOME") or ""
    if configured:
        return Path(configured).expanduser().resolve()
    if is_root():
        return ROOT_ES_HOME
    return data_dir(settings) / "elasticsearch"


def es_version(settings: BaseSettings) -> str:
    """``DARKCRAWL_ES_VERSION``, checked to be a 9.x version (the Python client speaks to 9.x only)."""
    version = str(settings.get("DARKCRAWL_ES_VERSION") or "")
    if not re.fullmatch(r"9\.\d+\.\d+", version):
        raise UsageError(f"DARKCRAWL_ES_VERSION={version!r} is not a 9.x.y version; the client needs Elasticsearch 9")
    return version


def distribution_dir(settings: BaseSettings) -> Path:
    """Where the unpacked distribution lives: ``<home>/elasticsearch-<version>``."""
    return es_home(settings) / f"elasticsearch-{es_version(settings)}"


def service_user(settings: BaseSettings) -> str | None:
    """The user the node runs as: ``DARKCRAWL_ES_USER`` when darkcrawl is root (Elasticsearch refuses root), else
    None (the node runs as the current user)."""
    if not is_root():
        return None
    return str(settings.get("DARKCRAWL_ES_USER") or default_settings.DARKCRAWL_ES_USER)


def require_user(name: str) -> pwd.struct_passwd:
    """Return the passwd entry of *name*, or raise :class:`ServiceError` saying how to create it."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise ServiceError(
            f"system user {name!r} that runs Elasticsearch does not exist: run ./setup.sh (or darkcrawl es install)"
        ) from None


def java_major(java_home: Path) -> int | None:
    """The major version of the JDK at *java_home*, read from its ``release`` file (or ``java -version``)."""
    release = java_home / "release"
    text = ""
    if release.is_file():
        text = release.read_text(encoding="utf-8", errors="replace")
        match = re.search(r'^JAVA_VERSION="([0-9]+)', text, re.MULTILINE)
        if match:
            return int(match.group(1))
    java = java_home / "bin" / "java"
    if not java.is_file():
        return None
    try:
        result = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    match = re.search(r'version "([0-9]+)', result.stderr + result.stdout)
    return int(match.group(1)) if match else None


def find_java(settings: BaseSettings) -> Path:
    """The JDK home to run Elasticsearch with (``DARKCRAWL_JAVA_HOME`` or the newest Temurin). See :func:`java_home`."""
    return java_home(str(settings.get("DARKCRAWL_JAVA_HOME") or ""))


def java_home(configured: str = "") -> Path:
    """*configured* checked to be a JDK 21+, or when empty the newest Temurin 21+ under /usr/lib/jvm.

    Raises :class:`ServiceError` naming the JDK found and the fix when there is none of version 21+."""
    if configured:
        home = Path(configured)
        major = java_major(home)
        if major is None:
            raise ServiceError(f"DARKCRAWL_JAVA_HOME={home} holds no JDK (no bin/java): point it at a JDK {MIN_JAVA}+")
        if major < MIN_JAVA:
            raise ServiceError(
                f"DARKCRAWL_JAVA_HOME={home} is Java {major}; Elasticsearch 9 needs {MIN_JAVA}+: install Temurin 25"
            )
        return home
    candidates: list[tuple[int, Path]] = []
    if JVM_ROOT.is_dir():
        for home in JVM_ROOT.glob("temurin-*"):
            if home.is_symlink() or not (home / "bin" / "java").is_file():
                continue
            major = java_major(home)
            if major is not None and major >= MIN_JAVA:
                candidates.append((major, home))
    if not candidates:
        raise ServiceError(
            f"no Temurin JDK {MIN_JAVA}+ under {JVM_ROOT}: install one (e.g. temurin-25-jdk) "
            "or set DARKCRAWL_JAVA_HOME to a JDK 21+"
        )
    return max(candidates)[1]


def maven_zip_path(version: str) -> Path:
    """Where Maven keeps the downloaded distribution zip in the local repository."""
    group_path = MAVEN_GROUP.replace(".", "/")
    return (
        Path.home() / ".m2" / "repository" / group_path / MAVEN_ARTIFACT / version
        / f"{MAVEN_ARTIFACT}-{version}.zip"
    )


def fetch_distribution(version: str, say: Say) -> Path:
    """Return the local path of the distribution zip, downloading it with Maven when the local repository lacks it.

    Raises :class:`ServiceError` when Maven is missing or the download fails."""
    path = maven_zip_path(version)
    if path.is_file():
        say(f"distribution zip present: {path}")
        return path
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError("Maven (mvn) is missing; it fetches Elasticsearch: run ./setup.sh or apt-get install maven")
    artifact = f"{MAVEN_GROUP}:{MAVEN_ARTIFACT}:{version}:zip"
    say(f"fetching {artifact} from Maven Central")
    try:
        result = subprocess.run(
            [mvn, "-q", "-B", MAVEN_DEPENDENCY_PLUGIN, f"-Dartifact={artifact}", "-Dtransitive=false"],
            capture_output=True, text=True, timeout=1800,
        )
    except subprocess.TimeoutExpired:
        raise ServiceError(f"Maven did not fetch {artifact} in 30 minutes: check access to Maven Central") from None
    if result.returncode != 0 or not path.is_file():
        detail = (result.stdout + result.stderr).strip().splitlines()
        last = next((line for line in reversed(detail) if "ERROR" in line), detail[-1] if detail else "no output")
        raise ServiceError(
            f"Maven could not fetch {artifact} ({last.strip()[:300]}): "
            "check that DARKCRAWL_ES_VERSION exists on Maven Central"
        )
    return path


def unpack(archive: Path, target: Path, say: Say) -> None:
    """Unpack the distribution *archive* so that its top directory becomes *target*, keeping file modes.

    Unpacks beside the target and renames at the end, so an interrupted install never leaves a half distribution."""
    partial = target.parent / f".{target.name}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    say(f"unpacking {archive.name} into {target}")
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.infolist():
                parts = Path(member.filename).parts
                if len(parts) < 2 or ".." in parts or member.filename.startswith("/"):
                    continue
                destination = partial.joinpath(*parts[1:])
                if member.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, destination.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                mode = (member.external_attr >> 16) & 0o777
                os.chmod(destination, mode or 0o644)
    except zipfile.BadZipFile:
        shutil.rmtree(partial, ignore_errors=True)
        raise ServiceError(f"{archive} is not a valid zip: delete it and run darkcrawl es install again") from None
    for directory in [partial, *(path for path in partial.rglob("*") if path.is_dir())]:
        os.chmod(directory, 0o755)
    partial.rename(target)


def ensure_user(name: str, home: Path, say: Say) -> None:
    """Create the system user *name* (no login shell, no home created) unless it exists. Needs root."""
    try:
        pwd.getpwnam(name)
        say(f"system user {name!r} present")
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    say(f"creating system user {name!r}")
    result = subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", str(home), "--shell",
         "/usr/sbin/nologin", name],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise ServiceError(f"useradd could not create user {name!r}: {result.stderr.strip()}; set DARKCRAWL_ES_USER")


@dataclass
class InstallResult:
    """What :func:`install` found or did: the distribution, the JDK, the user, and whether anything changed."""

    distribution: Path
    java_home: Path
    user: str | None
    changed: bool


def install(settings: BaseSettings, say: Say) -> InstallResult:
    """Make the managed node runnable: JDK check, system user (as root), distribution zip, unpacked distribution,
    the analysis plugin built (cached in ``<home>/plugin-build``) and installed.

    Idempotent: a second call changes nothing and reports "already installed". Raises :class:`ServiceError` naming
    the missing piece (Java, Maven, the download or the plugin build, useradd)."""
    version = es_version(settings)
    home = es_home(settings)
    target = distribution_dir(settings)
    jdk = find_java(settings)
    say(f"Java: {jdk} (Java {java_major(jdk)})")
    changed = False
    user = service_user(settings)
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            changed = True
        ensure_user(user, home, say)
    try:
        home.mkdir(parents=True, exist_ok=True)
        if is_root():
            # The node user must traverse the home and its parent to reach its own directories.
            for directory in (home.parent, home):
                os.chmod(directory, os.stat(directory).st_mode | 0o755)
        if (target / "bin" / "elasticsearch").is_file():
            say(f"Elasticsearch {version} already installed in {target}")
        else:
            archive = fetch_distribution(version, say)
            unpack(archive, target, say)
            changed = True
            say(f"Elasticsearch {version} installed in {target}")
        changed = ensure_plugin(target, version, jdk, home / "plugin-build", say) or changed
    except PermissionError as exc:
        raise ServiceError(
            f"cannot write {exc.filename or home}: run darkcrawl es install as root (./setup.sh) or set "
            "DARKCRAWL_ES_HOME to a directory you own"
        ) from None
    return InstallResult(distribution=target, java_home=jdk, user=user, changed=changed)
