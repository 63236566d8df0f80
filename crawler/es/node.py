"""The managed Elasticsearch node: a real single-node cluster on loopback. Documented in docs/schema.md.

A node *instance* is a directory with its own ``config/`` (elasticsearch.yml, JVM options, the keystore holding the
``elastic`` user's bootstrap password), ``data/``, ``logs/``, ``run/elasticsearch.pid`` and ``es-credentials.json``
(0600, read by :mod:`crawler.es.client`). The managed node's instance is ``<DARKCRAWL_ES_HOME>/node``; tests run
their own instance on another port from the same distribution.

* :class:`NodeInstance` -- paths, port, heap, user of one instance; ``NodeInstance.from_settings(settings)``.
* :func:`start` -- start it (harmless when it already runs) and wait for green/yellow health.
* :func:`stop` -- stop it and wait until no process is left.
* :func:`status` -- whether it runs and answers: a :class:`NodeStatus`.
* :class:`HttpTls` -- certificate, key and CA for a node that serves HTTPS (tests of TLS verification use it).

Errors are :class:`~crawler.errors.ServiceError` with one line naming the cause and the fix: the port is taken, Java
is missing or too old, the user or the distribution is missing, or the node failed (with the tail of its log).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler import settings as default_settings
from crawler.errors import ServiceError, UsageError
from crawler.es.install import (
    Say,
    distribution_dir,
    es_home,
    java_home,
    require_user,
    service_user,
)

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

HOST = "127.0.0.1"
ES_USERNAME = "elastic"
CREDENTIALS_FILE = "es-credentials.json"
START_TIMEOUT = 180.0  # seconds a start may take on a slow machine (measured: see docs/schema.md)
STOP_TIMEOUT = 60.0


@dataclass(frozen=True)
class HttpTls:
    """PEM files for HTTPS: the node's certificate and key, and the CA that signed them. They are copied into the
    instance's config directory (Elasticsearch reads TLS files from there only)."""

    certificate: Path
    key: Path
    ca: Path

    FILES = ("http.crt", "http.key", "http-ca.crt")


@dataclass(frozen=True)
class NodeInstance:
    """One node instance: where its files are, which port it serves, its heap and the user it runs as."""

    distribution: Path
    root: Path
    port: int
    heap: str = default_settings.DARKCRAWL_ES_HEAP
    user: str | None = None
    cluster_name: str = "darkcrawl"
    java_home_setting: str = ""
    test_settings: bool = False  # the test harness's settings (destructive wildcards allowed)
    http_tls: HttpTls | None = None  # serve HTTPS with these files; None: plain HTTP on loopback
    transport_port: int | None = None  # node-to-node port; None: Elasticsearch takes the first free one of 9300-9399

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> NodeInstance:
        """The managed node described by the settings (``DARKCRAWL_ES_HOME``, ``_PORT``, ``_HEAP``, ``_USER``).

        Raises :class:`UsageError` for a heap size the JVM would not understand or a port out of range."""
        heap = str(settings.get("DARKCRAWL_ES_HEAP") or default_settings.DARKCRAWL_ES_HEAP).strip()
        if not re.fullmatch(r"[1-9][0-9]*[kKmMgG]?", heap):
            raise UsageError(f"DARKCRAWL_ES_HEAP={heap!r} is not a JVM heap size: write it like 512m or 1g")
        port = settings.getint("DARKCRAWL_ES_PORT")
        if not 1 <= port <= 65535:
            raise UsageError(f"DARKCRAWL_ES_PORT={port} is not a TCP port (1-65535)")
        return cls(
            distribution=distribution_dir(settings),
            root=es_home(settings) / "node",
            port=port,
            heap=heap,
            user=service_user(settings),
            java_home_setting=str(settings.get("DARKCRAWL_JAVA_HOME") or ""),
        )

    @property
    def url(self) -> str:
        return f"{'https' if self.http_tls else 'http'}://{HOST}:{self.port}"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "elasticsearch.pid"

    @property
    def credentials_file(self) -> Path:
        return self.root / CREDENTIALS_FILE

    @property
    def log_file(self) -> Path:
        return self.logs_dir / f"{self.cluster_name}.log"


@dataclass
class NodeStatus:
    """What :func:`status` found. ``running``: a node process is alive; ``healthy``: it answers with green/yellow."""

    running: bool
    healthy: bool
    url: str
    pid: int | None = None
    version: str | None = None
    health: str | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Credentials:
    """The ``elastic`` user's password of a managed node, as stored in its ``es-credentials.json``."""

    username: str
    password: str
    url: str


def read_credentials(instance: NodeInstance) -> Credentials:
    """Read the instance's credentials file. Raises :class:`ServiceError` when it is missing or unreadable."""
    path = instance.credentials_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(username=data["username"], password=data["password"], url=data.get("url", instance.url))
    except FileNotFoundError:
        raise ServiceError(
            f"no credentials for the managed Elasticsearch node ({path} is missing): run darkcrawl es start"
        ) from None
    except PermissionError:
        raise ServiceError(
            f"cannot read {path}: run darkcrawl as the user who started the node, or set DARKCRAWL_ES_PASSWORD"
        ) from None
    except (ValueError, KeyError, TypeError):
        raise ServiceError(f"{path} is damaged: delete it and {path.parent}/config/elasticsearch.keystore") from None


# --- preparing an instance ----------------------------------------------------------------------------------------


def elasticsearch_yml(instance: NodeInstance) -> str:
    """The node's configuration: single node on loopback, security on with HTTP in the clear (loopback only)."""
    lines = [
        "# Written by darkcrawl (crawler/es/node.py) at every start; edits are overwritten.",
        f"cluster.name: {instance.cluster_name}",
        "node.name: darkcrawl-node",
        "discovery.type: single-node",
        f"network.host: {HOST}",
        f"http.port: {instance.port}",
        *([f"transport.port: {instance.transport_port}"] if instance.transport_port else []),
        f"path.data: {instance.data_dir}",
        f"path.logs: {instance.logs_dir}",
        # An investigator's laptop disk may be nearly full; never turn indices read-only on a small free margin.
        "cluster.routing.allocation.disk.watermark.low: 1gb",
        "cluster.routing.allocation.disk.watermark.high: 512mb",
        "cluster.routing.allocation.disk.watermark.flood_stage: 256mb",
        "xpack.security.enabled: true",
        *_http_ssl_lines(instance),
        "xpack.security.transport.ssl.enabled: false",
        "xpack.security.enrollment.enabled: false",
    ]
    if instance.test_settings:
        lines += [
            "action.destructive_requires_name: false",
            "discovery.initial_state_timeout: 0s",
            "indices.breaker.total.use_real_memory: false",
        ]
    return "\n".join(lines) + "\n"


def _http_ssl_lines(instance: NodeInstance) -> list[str]:
    if instance.http_tls is None:
        return ["xpack.security.http.ssl.enabled: false"]
    certificate, key, ca = HttpTls.FILES
    return [
        "xpack.security.http.ssl.enabled: true",
        f"xpack.security.http.ssl.certificate: {certificate}",
        f"xpack.security.http.ssl.key: {key}",
        f"xpack.security.http.ssl.certificate_authorities: [{ca}]",
    ]


def _owner(instance: NodeInstance) -> tuple[int, int] | None:
    if instance.user is None:
        return None
    entry = require_user(instance.user)
    return entry.pw_uid, entry.pw_gid


def _chown_tree(path: Path, owner: tuple[int, int] | None) -> None:
    if owner is None:
        return
    os.chown(path, *owner)
    for item in path.rglob("*"):
        os.chown(item, *owner, follow_symlinks=False)


def _node_env(instance: NodeInstance, jdk: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ES_", "JAVA_"))}
    env.update(
        ES_JAVA_HOME=str(jdk),
        ES_PATH_CONF=str(instance.config_dir),
        ES_JAVA_OPTS=f"-Xms{instance.heap} -Xmx{instance.heap}",
    )
    if instance.user is not None:
        env["HOME"] = str(instance.root)
    return env


def _as_node_user(instance: NodeInstance, command: list[str]) -> list[str]:
    """*command* run as the node's user: through ``runuser`` when darkcrawl is root."""
    if instance.user is None:
        return command
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", instance.user, "--", *command]


def _keystore(instance: NodeInstance, jdk: Path, args: list[str], stdin: str | None = None) -> None:
    tool = instance.distribution / "bin" / "elasticsearch-keystore"
    result = subprocess.run(
        _as_node_user(instance, [str(tool), *args]),
        input=stdin, capture_output=True, text=True, env=_node_env(instance, jdk), timeout=120,
    )
    if result.returncode != 0:
        output = (result.stderr + result.stdout).strip().replace("\n", " ")
        raise ServiceError(f"elasticsearch-keystore {args[0]} failed: {output[:300]}")


def prepare(instance: NodeInstance, jdk: Path) -> Credentials:
    """Create the instance's directories and configuration, and on first use its password and keystore.

    Returns the credentials. Idempotent; elasticsearch.yml is rewritten every time so port changes apply."""
    owner = _owner(instance)
    instance.root.mkdir(parents=True, exist_ok=True)
    os.chmod(instance.root, 0o755)
    for directory in (instance.config_dir, instance.data_dir, instance.logs_dir, instance.run_dir):
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o750)
    shipped = instance.distribution / "config"
    for source in shipped.iterdir():
        destination = instance.config_dir / source.name
        if source.name == "elasticsearch.yml" or destination.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)
    (instance.config_dir / "elasticsearch.yml").write_text(elasticsearch_yml(instance), encoding="utf-8")
    if instance.http_tls is not None:
        sources = (instance.http_tls.certificate, instance.http_tls.key, instance.http_tls.ca)
        for source, name in zip(sources, HttpTls.FILES, strict=True):
            shutil.copyfile(source, instance.config_dir / name)
            os.chmod(instance.config_dir / name, 0o600 if name.endswith(".key") else 0o644)
    _chown_tree(instance.config_dir, owner)
    for directory in (instance.data_dir, instance.logs_dir, instance.run_dir):
        _chown_tree(directory, owner)

    keystore = instance.config_dir / "elasticsearch.keystore"
    credentials: Credentials | None = None
    if instance.credentials_file.is_file():
        credentials = read_credentials(instance)
    if credentials is None or not keystore.is_file():
        if credentials is None:
            credentials = Credentials(ES_USERNAME, secrets.token_urlsafe(24), instance.url)
        if keystore.is_file():
            keystore.unlink()
        _keystore(instance, jdk, ["create"])
        _keystore(instance, jdk, ["add", "--stdin", "bootstrap.password"], stdin=credentials.password)
        descriptor = os.open(instance.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(credentials), handle)
        os.chmod(instance.credentials_file, 0o600)
    return Credentials(credentials.username, credentials.password, instance.url)


# --- processes and health -----------------------------------------------------------------------------------------


def read_pid(instance: NodeInstance) -> int | None:
    """The pid in the instance's pid file when that process is alive and is an Elasticsearch JVM, else None."""
    try:
        pid = int(instance.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    if b"org.elasticsearch.server" not in cmdline:  # the pid was reused by another program
        return None
    return pid


def configured_port(instance: NodeInstance) -> int | None:
    """The HTTP port in the instance's elasticsearch.yml as last written (the port a running node listens on)."""
    try:
        text = (instance.config_dir / "elasticsearch.yml").read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^http\.port:\s*(\d+)\s*$", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when something accepts connections on *host*:*port*."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def _get(instance: NodeInstance, credentials: Credentials | None, path: str, timeout: float = 5.0) -> Any:
    request = urllib.request.Request(instance.url + path)
    if credentials is not None:
        token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=str(instance.http_tls.ca)) if instance.http_tls else None
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        return json.loads(response.read().decode("utf-8"))


def probe(instance: NodeInstance, credentials: Credentials | None) -> tuple[str | None, str | None, str]:
    """Ask the node for its health and version: ``(health, version, problem)``; health None when it does not answer."""
    try:
        health = _get(instance, credentials, "/_cluster/health")
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            return None, None, "the node refuses the stored credentials (401)"
        return None, None, f"HTTP {exc.code} from /_cluster/health"
    except (OSError, ValueError) as exc:
        return None, None, f"no answer on {instance.url} ({exc})"
    version = None
    try:
        # GET / needs the rest-root module, which the integ-test zip lacks; the nodes API has the version too.
        nodes = _get(instance, credentials, "/_nodes/_local?filter_path=nodes.*.version")["nodes"]
        version = next(iter(nodes.values()))["version"]
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        version = None
    return health.get("status"), version, ""


def summarize(lines: list[str], keep: int = 3) -> str:
    """The lines of an Elasticsearch error report that say what went wrong (not the stack frames), joined."""
    meaningful = [line.strip() for line in lines if line.strip() and not line.strip().startswith(("at ", "..."))]
    causes = [line for line in meaningful if "Exception" in line or "ERROR" in line or "error" in line]
    return " | ".join((causes or meaningful)[-keep:])


def log_tail(instance: NodeInstance) -> str:
    """What the node's log says went wrong (its last error lines), for startup failure messages."""
    try:
        text = instance.log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return summarize(text[-400:])


def status(instance: NodeInstance) -> NodeStatus:
    """Whether the node's process is alive and whether it answers with green/yellow health, and its version."""
    pid = read_pid(instance)
    credentials: Credentials | None = None
    if instance.credentials_file.is_file():
        try:
            credentials = read_credentials(instance)
        except ServiceError as exc:
            return NodeStatus(running=pid is not None, healthy=False, url=instance.url, pid=pid, message=str(exc))
    if pid is None:
        message = f"Elasticsearch is not running (managed node, {instance.url}): start it with darkcrawl es start"
        if port_in_use(instance.port):
            message = (
                f"the managed node is not running, but another process listens on port {instance.port}: "
                "stop it or set DARKCRAWL_ES_PORT"
            )
        return NodeStatus(running=False, healthy=False, url=instance.url, message=message)
    health, version, problem = probe(instance, credentials)
    healthy = health in ("green", "yellow")
    if healthy:
        message = f"Elasticsearch {version or '?'} is up at {instance.url} (pid {pid}, health {health})"
    else:
        message = f"Elasticsearch process {pid} is running but not healthy at {instance.url}: {problem or health}"
    return NodeStatus(
        running=True, healthy=healthy, url=instance.url, pid=pid, version=version, health=health, message=message
    )


def wait_healthy(instance: NodeInstance, credentials: Credentials, timeout: float) -> NodeStatus:
    """Poll until the node answers green/yellow. Raises :class:`ServiceError` (with the log tail) on timeout or
    when its process dies."""
    deadline = time.monotonic() + timeout
    problem = ""
    while time.monotonic() < deadline:
        if read_pid(instance) is None:
            raise ServiceError(f"Elasticsearch exited during startup: {log_tail(instance) or 'no log'}")
        health, _version, problem = probe(instance, credentials)
        if health in ("green", "yellow"):
            return status(instance)
        time.sleep(0.5)
    raise ServiceError(
        f"Elasticsearch did not become healthy within {timeout:.0f}s ({problem}); log: {log_tail(instance) or 'empty'}"
    )


def start(instance: NodeInstance, say: Say, timeout: float = START_TIMEOUT) -> NodeStatus:
    """Start the node unless it runs already, and wait until it is healthy. Returns its :class:`NodeStatus`.

    Raises :class:`ServiceError` when the distribution, Java or the user is missing, the port is taken by another
    process, or the node fails to start (with the tail of its log)."""
    launcher = instance.distribution / "bin" / "elasticsearch"
    if not launcher.is_file():
        raise ServiceError(
            f"Elasticsearch is not installed in {instance.distribution}: run ./setup.sh (darkcrawl es install)"
        )
    if instance.user is not None:
        require_user(instance.user)
    jdk = java_home(instance.java_home_setting)
    if read_pid(instance) is not None:
        configured = configured_port(instance)
        if configured is not None and configured != instance.port:
            raise ServiceError(
                f"the managed node already runs on port {configured}, not DARKCRAWL_ES_PORT={instance.port}: "
                "run darkcrawl es stop, then start it again"
            )
        credentials = read_credentials(instance)
        say(f"Elasticsearch already running at {instance.url}")
        return wait_healthy(instance, credentials, timeout)
    if port_in_use(instance.port):
        raise ServiceError(
            f"port {instance.port} on {HOST} is taken by another process: stop it or set DARKCRAWL_ES_PORT to a "
            "free port"
        )
    try:
        credentials = prepare(instance, jdk)
    except PermissionError as exc:
        raise ServiceError(
            f"cannot write {exc.filename or instance.root}: run darkcrawl as the user who installed Elasticsearch "
            "(root, via ./setup.sh) or set DARKCRAWL_ES_HOME to a directory you own"
        ) from None
    instance.pid_file.unlink(missing_ok=True)
    say(f"starting Elasticsearch on {instance.url} (heap {instance.heap}, data in {instance.data_dir})")
    command = _as_node_user(instance, [str(launcher), "-d", "-p", str(instance.pid_file)])
    began = time.monotonic()
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, env=_node_env(instance, jdk), timeout=timeout,
            cwd=instance.root, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        stop(instance)
        raise ServiceError(
            f"Elasticsearch did not start within {timeout:.0f}s: {log_tail(instance) or 'no log'}"
        ) from None
    if result.returncode != 0:
        output = summarize((result.stderr + result.stdout).splitlines())
        stop(instance)
        raise ServiceError(
            f"Elasticsearch failed to start (exit {result.returncode}): {output or log_tail(instance) or 'no output'}"
        )
    node = wait_healthy(instance, credentials, max(timeout - (time.monotonic() - began), 10.0))
    node.details["startup_seconds"] = round(time.monotonic() - began, 1)
    return node


def stop(instance: NodeInstance, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the node: SIGTERM, then SIGKILL after *timeout*. Returns False when it was not running."""
    pid = read_pid(instance)
    if pid is None:
        instance.pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
        while Path(f"/proc/{pid}").exists():
            time.sleep(0.1)
    instance.pid_file.unlink(missing_ok=True)
    return True
