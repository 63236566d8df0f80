"""Session fixture ``es_node``: a real Elasticsearch 9 node for the whole test session, and ``es_prefix`` per test.

By default a node of its own is started from the installed distribution (``darkcrawl es install``), on port 9250
(``DARKCRAWL_TEST_ES_PORT``; the next free port when taken) and a free transport port of its own (random in
:data:`TRANSPORT_PORTS`, away from the 9300-9399 that other nodes on the machine take by default), with its data in a
fresh temporary directory owned by the node's user, security on, and stopped at the end. Other test sessions start
nodes on this machine too: a port found free can be taken before the JVM binds it, so a start that fails to bind is
tried again on other ports (:func:`start_test_node`). With ``DARKCRAWL_TEST_ES_URL`` set (and
``DARKCRAWL_TEST_ES_USERNAME`` / ``_PASSWORD`` or ``_API_KEY``), that cluster is used instead and nothing is started.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch, NotFoundError
from scrapy.settings import Settings

from crawler.config import load_settings
from crawler.errors import ServiceError
from crawler.es.client import es_client, es_sync_client
from crawler.es.install import distribution_dir, install, service_user
from crawler.es.node import NodeInstance, NodeStatus, port_in_use, read_credentials, start, stop
from crawler.es.schema import IndexNames, index_names, init_schema
from crawler.ports import port_is_free

DEFAULT_TEST_PORT = 9250
TRANSPORT_PORTS = range(9400, 10000)  # test nodes' transport ports: clear of Elasticsearch's defaults (9200-9399)
START_ATTEMPTS = 3
# What a start that lost a port to another process says (our own check, or the JVM's bind failing).
BIND_FAILURE = re.compile(r"is taken by another process|Bind(Transport|Http)Exception|[Aa]ddress already in use|"
                          r"[Ff]ailed to bind")
# Settings of the developer's environment that say where the distribution and Java are; nothing else leaks in.
INSTALL_SETTINGS = ("DARKCRAWL_ES_HOME", "DARKCRAWL_ES_VERSION", "DARKCRAWL_ES_USER", "DARKCRAWL_JAVA_HOME")


@dataclass
class EsNode:
    """The test cluster: its URL and credentials, settings and clients that point at it."""

    url: str
    username: str = ""
    password: str = ""
    api_key: str = ""
    instance: NodeInstance | None = None
    startup_seconds: float | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """``DARKCRAWL_*`` variables that make a darkcrawl process use this cluster."""
        env = {"DARKCRAWL_ES_URL": self.url} | self.extra_env
        if self.api_key:
            env["DARKCRAWL_ES_API_KEY"] = self.api_key
        else:
            env.update(DARKCRAWL_ES_USERNAME=self.username, DARKCRAWL_ES_PASSWORD=self.password)
        return env

    def settings(self, **overrides: Any) -> Settings:
        """darkcrawl settings for this cluster, independent of the developer's environment."""
        return load_settings(overrides=self.env() | overrides, environ={})

    def client(self) -> Elasticsearch:
        return es_sync_client(self.settings())

    def async_client(self) -> AsyncElasticsearch:
        return es_client(self.settings())


def install_settings() -> Settings:
    return load_settings(environ={name: os.environ[name] for name in INSTALL_SETTINGS if name in os.environ})


def _free_port(first: int) -> int:
    for port in range(first, first + 50):
        if not port_in_use(port):
            return port
    raise RuntimeError(f"no free port in {first}-{first + 49} for the test Elasticsearch node")


def free_transport_port(avoid: int = 0) -> int:
    """A transport port free to bind now, picked at random in :data:`TRANSPORT_PORTS` (two sessions starting nodes at
    the same moment would both take the first free one of a scan)."""
    candidates = [port for port in TRANSPORT_PORTS if port != avoid]
    random.shuffle(candidates)
    for port in candidates[:100]:
        if port_is_free(port) and not port_in_use(port):
            return port
    first, last = TRANSPORT_PORTS.start, TRANSPORT_PORTS.stop - 1
    raise RuntimeError(f"no free transport port in {first}-{last} for the test Elasticsearch node")


def instance_for_tests(root: Path, port: int, settings: Settings | None = None,
                       transport_port: int | None = None) -> NodeInstance:
    """A node instance for tests: the installed distribution, its own directory, HTTP and transport ports, and the
    managed node's default heap (1g: Elasticsearch's indexing pressure limit is a tenth of it, and a 512m heap turns a
    12 MB page, the extraction-budget test's, away with 429 until it is spooled)."""
    settings = settings or install_settings()
    return NodeInstance(
        distribution=distribution_dir(settings),
        root=root,
        port=port,
        heap="1g",
        user=service_user(settings),
        cluster_name="darkcrawl-test",
        java_home_setting=str(settings.get("DARKCRAWL_JAVA_HOME") or ""),
        test_settings=True,
        transport_port=transport_port or free_transport_port(avoid=port),
    )


def start_test_node(root: Path, first_port: int, settings: Settings | None = None) -> tuple[NodeInstance, NodeStatus]:
    """Start a test node on the first free HTTP port from *first_port* and a free transport port. When another
    process takes one of them before the node binds it, stop and try again on other ports (:data:`START_ATTEMPTS`
    times); any other failure is raised at once."""
    for attempt in range(1, START_ATTEMPTS + 1):
        instance = instance_for_tests(root, _free_port(first_port), settings)
        try:
            return instance, start(instance, lambda message: None)
        except ServiceError as exc:
            stop(instance)
            if attempt == START_ATTEMPTS or not BIND_FAILURE.search(str(exc)):
                raise
            first_port = instance.port + 1
    raise AssertionError("unreachable")


def private_node_dir(prefix: str) -> Path:
    """A fresh directory under /tmp that the node's user can traverse (pytest's own tmp dirs are root-only)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(root, 0o755)
    return root


@pytest.fixture(scope="session")
def es_node() -> Iterator[EsNode]:
    external = os.environ.get("DARKCRAWL_TEST_ES_URL")
    if external:
        extra = {}
        if os.environ.get("DARKCRAWL_TEST_ES_CA_CERTS"):
            extra["DARKCRAWL_ES_CA_CERTS"] = os.environ["DARKCRAWL_TEST_ES_CA_CERTS"]
        yield EsNode(
            url=external.rstrip("/"),
            username=os.environ.get("DARKCRAWL_TEST_ES_USERNAME", ""),
            password=os.environ.get("DARKCRAWL_TEST_ES_PASSWORD", ""),
            api_key=os.environ.get("DARKCRAWL_TEST_ES_API_KEY", ""),
            extra_env=extra,
        )
        return
    settings = install_settings()
    install(settings, lambda message: None)
    root = private_node_dir("darkcrawl-es-test-")
    instance: NodeInstance | None = None
    try:
        instance, status = start_test_node(root, int(os.environ.get("DARKCRAWL_TEST_ES_PORT", DEFAULT_TEST_PORT)),
                                           settings)
        credentials = read_credentials(instance)
        yield EsNode(
            url=instance.url,
            username=credentials.username,
            password=credentials.password,
            instance=instance,
            startup_seconds=status.details.get("startup_seconds"),
        )
    finally:
        if instance is not None:
            stop(instance)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def es_names(es_node: EsNode, es_prefix: str) -> IndexNames:
    """The index names of a fresh prefix, with the templates installed and the first indices created."""
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    client = es_node.client()
    try:
        init_schema(client, names, lambda message: None)
    finally:
        client.close()
    return names


@pytest.fixture
def es_prefix(es_node: EsNode) -> Iterator[str]:
    """A unique index prefix for one test; its indices and templates are deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    yield prefix
    drop_prefix(es_node, prefix)


def drop_prefix(es_node: EsNode, prefix: str) -> None:
    """Delete the indices and index templates of *prefix* (a test's or a benchmark's)."""
    client = es_node.client()
    try:
        indices = list(client.indices.get(index=f"{prefix}-*", expand_wildcards="all"))
        for index in indices:
            client.indices.delete(index=index, ignore_unavailable=True)
        try:
            templates = client.indices.get_index_template(name=f"{prefix}-*")["index_templates"]
        except NotFoundError:
            templates = []
        for template in templates:
            client.indices.delete_index_template(name=template["name"])
    finally:
        client.close()
