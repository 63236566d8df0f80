"""darkcrawl's own Elasticsearch client against real nodes: API keys (an unknown one is refused in one line; one
created on the cluster runs darkcrawl commands) and passwords never appear in the output, even with -v; a second node
serving HTTPS is verified against a CA file, and a wrong CA, no CA or a plain http:// URL are one-line errors without
a traceback.

The managed node's distribution cannot create API keys: they live in the ``.security`` system index, whose settings
need the ``analysis-common`` module that the integ-test zip lacks (Elasticsearch answers ``Unknown filter type
[pattern_capture]``). The test that creates a key therefore runs against a full cluster (``DARKCRAWL_TEST_ES_URL``,
e.g. the compose stack in deploy/) and is skipped, saying why, on the managed node."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from elasticsearch import BadRequestError

from crawler.config import load_settings
from crawler.errors import ServiceError
from crawler.es.client import check_connection_async, es_client
from crawler.es.install import install
from crawler.es.node import HttpTls, NodeInstance, read_credentials, start, stop
from tests.integration.fixtures_es import (
    INSTALL_SETTINGS,
    _free_port,
    install_settings,
    instance_for_tests,
    private_node_dir,
)
from tests.tls import make_server

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DARKCRAWL = [sys.executable, "-m", "crawler.cli"]
EXPECTED_VERSION = "9.5.4"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without DARKCRAWL_* settings (except where the distribution and Java are), plus *extra*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update({name: os.environ[name] for name in INSTALL_SETTINGS if name in os.environ})
    env.update(extra)
    return env


def darkcrawl(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(DARKCRAWL + args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


# --- API key ----------------------------------------------------------------------------------------------------


@pytest.fixture
def api_key(es_node, es_prefix) -> Iterator[tuple[str, str]]:
    """(id, encoded key) of an API key limited to the test's indices, created on the test node, invalidated after."""
    client = es_node.client()
    try:
        created = create_api_key(client, es_prefix)
        yield created["id"], created["encoded"]
        client.security.invalidate_api_key(ids=[created["id"]])
    finally:
        client.close()


def create_api_key(client, es_prefix: str):
    try:
        return client.security.create_api_key(
            name=f"darkcrawl-test-{uuid.uuid4().hex[:8]}",
            expiration="1h",
            role_descriptors={
                "darkcrawl": {
                    "cluster": ["monitor", "manage_index_templates"],
                    "indices": [{"names": [f"{es_prefix}-*"], "privileges": ["all"]}],
                }
            },
        )
    except BadRequestError as exc:
        if "pattern_capture" in str(exc):
            pytest.skip("this node cannot store API keys: its .security index needs the analysis-common module, "
                        "absent from the integ-test distribution; run with DARKCRAWL_TEST_ES_URL on a full cluster")
        raise


def test_darkcrawl_runs_with_an_api_key(es_node, es_prefix, api_key):
    key_id, encoded = api_key
    env = clean_env(DARKCRAWL_ES_URL=es_node.url, DARKCRAWL_ES_API_KEY=encoded, DARKCRAWL_ES_INDEX_PREFIX=es_prefix,
                    DARKCRAWL_DATA_DIR=str(private_node_dir("darkcrawl-apikey-")))
    env.update(es_node.extra_env)
    init = darkcrawl(["-v", "es", "init"], env)
    assert init.returncode == 0, init.stderr
    assert f"aliases {es_prefix}-pages" in init.stdout
    status = darkcrawl(["-v", "es", "status", "--json"], env)
    assert status.returncode == 0, status.stderr
    assert f'"version": "{EXPECTED_VERSION}"' in status.stdout
    client = es_node.client()
    try:
        assert client.indices.exists_alias(name=f"{es_prefix}-pages")
        # the key, not the elastic user, did it: the key authenticates as itself
        who = client.options(api_key=encoded).security.authenticate()
        assert who["api_key"]["id"] == key_id
    finally:
        client.close()
    for output in (init.stdout, init.stderr, status.stdout, status.stderr):
        assert encoded not in output and key_id not in output
    shutil.rmtree(env["DARKCRAWL_DATA_DIR"], ignore_errors=True)


def test_an_unknown_api_key_is_refused_in_one_line_and_not_echoed(es_node):
    key_id = uuid.uuid4().hex[:20]
    encoded = base64.b64encode(f"{key_id}:{uuid.uuid4().hex}".encode()).decode()
    env = clean_env(DARKCRAWL_ES_URL=es_node.url, DARKCRAWL_ES_API_KEY=encoded, **es_node.extra_env)
    result = darkcrawl(["-v", "es", "init"], env)
    assert result.returncode == 3
    assert "refused the credentials (401)" in result.stderr and "DARKCRAWL_ES_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert encoded not in result.stdout + result.stderr


def test_basic_auth_password_is_never_logged(es_node, es_prefix):
    if not es_node.password:
        pytest.skip("the test cluster is reached with an API key")
    env = clean_env(**es_node.env(), DARKCRAWL_ES_INDEX_PREFIX=es_prefix)
    result = darkcrawl(["-v", "es", "init"], env)
    assert result.returncode == 0, result.stderr
    assert es_node.password not in result.stdout + result.stderr
    wrong = darkcrawl(["-v", "es", "init"], env | {"DARKCRAWL_ES_PASSWORD": "wrong-" + es_node.password})
    assert wrong.returncode == 3 and "refused the credentials (401)" in wrong.stderr
    assert es_node.password not in wrong.stdout + wrong.stderr


# --- HTTPS, verified against a CA file --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_node() -> Iterator[tuple[NodeInstance, Path, Path]]:
    """A second, small node serving HTTPS with a certificate from a CA made here: (instance, its CA, another CA)."""
    if os.environ.get("DARKCRAWL_TEST_ES_URL"):
        pytest.skip("an external test cluster is configured: no second node is started")
    settings = install_settings()
    install(settings, lambda message: None)
    root = private_node_dir("darkcrawl-es-tls-")
    certificates = make_server(root / "pki", name="es-http", ca_name="es-ca")
    other_ca = make_server(root / "pki-other", name="other", ca_name="other-ca").ca
    instance = None
    try:
        # two tries: on a machine shared with other test sessions, a port found free can be taken before the bind
        for attempt, first_port in enumerate((9290, 9330)):
            instance = replace(
                instance_for_tests(root / f"node{attempt}", _free_port(first_port), settings),
                heap="384m",
                http_tls=HttpTls(certificates.cert, certificates.key, certificates.ca),
            )
            try:
                start(instance, lambda message: None)
                break
            except ServiceError:
                stop(instance)
                if attempt:
                    raise
        assert instance is not None
        yield instance, certificates.ca, other_ca
    finally:
        if instance is not None:
            stop(instance)
        shutil.rmtree(root, ignore_errors=True)


def tls_env(instance: NodeInstance, **extra: str) -> dict[str, str]:
    credentials = read_credentials(instance)
    return clean_env(DARKCRAWL_ES_URL=instance.url, DARKCRAWL_ES_USERNAME=credentials.username,
                     DARKCRAWL_ES_PASSWORD=credentials.password, **extra)


@pytest.mark.slow
def test_https_node_verified_against_its_ca(tls_node):
    instance, ca, _other = tls_node
    assert instance.url.startswith("https://127.0.0.1:")
    result = darkcrawl(["es", "status"], tls_env(instance, DARKCRAWL_ES_CA_CERTS=str(ca)))
    assert result.returncode == 0, result.stderr
    assert f"external Elasticsearch {EXPECTED_VERSION} is up at {instance.url}" in result.stdout


@pytest.mark.slow
async def test_async_client_verifies_the_ca_too(tls_node):
    instance, ca, _other = tls_node
    credentials = read_credentials(instance)
    settings = load_settings(environ={}, overrides={
        "DARKCRAWL_ES_URL": instance.url, "DARKCRAWL_ES_USERNAME": credentials.username,
        "DARKCRAWL_ES_PASSWORD": credentials.password, "DARKCRAWL_ES_CA_CERTS": str(ca),
    })
    client = es_client(settings)
    try:
        assert await check_connection_async(client) == EXPECTED_VERSION
    finally:
        await client.close()


@pytest.mark.slow
@pytest.mark.parametrize("which", ["wrong CA", "no CA"])
def test_untrusted_certificate_is_one_line(tls_node, which):
    instance, _ca, other_ca = tls_node
    extra = {"DARKCRAWL_ES_CA_CERTS": str(other_ca)} if which == "wrong CA" else {}
    result = darkcrawl(["es", "init"], tls_env(instance, **extra))
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"darkcrawl: error: Elasticsearch at {instance.url}: TLS failed, its certificate is "
                                "not trusted (")
    assert lines[-1].endswith("set DARKCRAWL_ES_CA_CERTS to the CA file that signed it (PEM)")
    assert "Traceback" not in result.stderr
    assert read_credentials(instance).password not in result.stderr


@pytest.mark.slow
def test_plain_http_url_against_https_is_one_line(tls_node):
    instance, ca, _other = tls_node
    env = tls_env(instance)
    env["DARKCRAWL_ES_URL"] = instance.url.replace("https://", "http://")
    result = darkcrawl(["es", "init"], env)
    assert result.returncode == 3
    assert "cannot be reached (if it serves HTTPS, use an https:// URL)" in result.stderr
    assert "Traceback" not in result.stderr
    with_ca = darkcrawl(["es", "init"], env | {"DARKCRAWL_ES_CA_CERTS": str(ca)})
    assert with_ca.returncode == 2
    assert with_ca.stderr.strip() == (
        f"darkcrawl: error: DARKCRAWL_ES_CA_CERTS is set but DARKCRAWL_ES_URL={env['DARKCRAWL_ES_URL']} is plain "
        "HTTP: use https://, or unset the CA file"
    )
