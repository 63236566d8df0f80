"""The managed node's configuration, process bookkeeping and messages, without starting Elasticsearch (the
integration tests start it)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from crawler.config import load_settings
from crawler.errors import ServiceError, UsageError
from crawler.es.node import (
    NodeInstance,
    configured_port,
    elasticsearch_yml,
    port_in_use,
    read_credentials,
    read_pid,
    status,
    summarize,
)


def instance(tmp_path: Path, **changes) -> NodeInstance:
    values = {"distribution": tmp_path / "dist", "root": tmp_path / "node", "port": 9299} | changes
    return NodeInstance(**values)


def test_from_settings_uses_the_es_settings(tmp_path):
    settings = load_settings(
        overrides={"DARKCRAWL_ES_HOME": str(tmp_path), "DARKCRAWL_ES_PORT": "9311", "DARKCRAWL_ES_HEAP": "2g"},
        environ={},
    )
    node = NodeInstance.from_settings(settings)
    assert node.root == tmp_path / "node"
    assert node.distribution == tmp_path / "elasticsearch-9.5.4"
    assert (node.port, node.heap, node.url) == (9311, "2g", "http://127.0.0.1:9311")
    assert node.credentials_file == tmp_path / "node" / "es-credentials.json"


@pytest.mark.parametrize(("name", "value"), [("DARKCRAWL_ES_HEAP", "1 GB"), ("DARKCRAWL_ES_HEAP", "0g"),
                                             ("DARKCRAWL_ES_PORT", "70000"), ("DARKCRAWL_ES_PORT", "0")])
def test_bad_heap_or_port_is_a_usage_error_naming_the_setting(name, value):
    with pytest.raises(UsageError, match=name):
        NodeInstance.from_settings(load_settings(overrides={name: value}, environ={}))


def test_configuration_is_single_node_loopback_with_security(tmp_path):
    node = instance(tmp_path)
    text = elasticsearch_yml(node)
    for line in (
        "discovery.type: single-node",
        "network.host: 127.0.0.1",
        "http.port: 9299",
        f"path.data: {node.data_dir}",
        f"path.logs: {node.logs_dir}",
        "xpack.security.enabled: true",
        "xpack.security.http.ssl.enabled: false",
    ):
        assert line in text.splitlines()
    assert "destructive_requires_name" not in text
    assert "action.destructive_requires_name: false" in elasticsearch_yml(instance(tmp_path, test_settings=True))


def test_configured_port_reads_the_written_file(tmp_path):
    node = instance(tmp_path, port=9333)
    assert configured_port(node) is None
    node.config_dir.mkdir(parents=True)
    (node.config_dir / "elasticsearch.yml").write_text(elasticsearch_yml(node))
    assert configured_port(node) == 9333


def test_port_in_use_sees_a_listening_socket():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_in_use(port)
    assert not port_in_use(port)


def test_pid_file_of_a_non_elasticsearch_or_dead_process_is_ignored(tmp_path):
    node = instance(tmp_path)
    assert read_pid(node) is None
    node.run_dir.mkdir(parents=True)
    node.pid_file.write_text(str(os.getpid()))  # this pytest process: alive, but not Elasticsearch
    assert read_pid(node) is None
    node.pid_file.write_text("999999999")
    assert read_pid(node) is None
    node.pid_file.write_text("garbage")
    assert read_pid(node) is None


def test_credentials_missing_damaged_and_present(tmp_path):
    node = instance(tmp_path)
    with pytest.raises(ServiceError, match=r"es-credentials\.json is missing\): run darkcrawl es start"):
        read_credentials(node)
    node.root.mkdir(parents=True)
    node.credentials_file.write_text("{not json")
    with pytest.raises(ServiceError, match="is damaged"):
        read_credentials(node)
    node.credentials_file.write_text(json.dumps({"username": "elastic", "password": "s3cret", "url": node.url}))
    credentials = read_credentials(node)
    assert (credentials.username, credentials.password) == ("elastic", "s3cret")


def test_status_of_a_stopped_node_says_how_to_start_it(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    report = status(instance(tmp_path, port=free))
    assert not report.running and not report.healthy
    assert "not running" in report.message and "darkcrawl es start" in report.message
    assert json.loads(json.dumps(report.to_json()))["url"] == f"http://127.0.0.1:{free}"


def test_status_names_a_foreign_process_on_the_port(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        report = status(instance(tmp_path, port=server.getsockname()[1]))
    assert "another process listens on port" in report.message and "DARKCRAWL_ES_PORT" in report.message


def test_summary_of_a_failure_keeps_the_cause_not_the_stack():
    output = [
        "[2026-11-29T03:28:30,490][ERROR][o.e.b.Elasticsearch] fatal exception while booting Elasticsearch",
        "java.lang.IllegalArgumentException: unknown setting [foo.bar]",
        "\tat org.elasticsearch.server@9.5.4/org.elasticsearch.node.Node.<init>(Node.java:191)",
        "\tat org.elasticsearch.server@9.5.4/org.elasticsearch.bootstrap.Elasticsearch.main(Elasticsearch.java:102)",
        "",
    ]
    summary = summarize(output)
    assert "unknown setting [foo.bar]" in summary
    assert "Node.java" not in summary
    assert "\n" not in summary


def test_transport_port_is_written_only_when_chosen(tmp_path):
    assert "transport.port" not in elasticsearch_yml(instance(tmp_path))  # the managed node: Elasticsearch's default
    text = elasticsearch_yml(instance(tmp_path, transport_port=9471))
    assert "transport.port: 9471\n" in text and "http.port: 9299\n" in text
