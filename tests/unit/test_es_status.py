"""crawler/es/status.py and crawler/sink/backlog.py: what `darkcrawl es status` and `darkcrawl status` report of the
cluster darkcrawl uses (its own credentials decide) and of the spooled backlog."""

from __future__ import annotations

from crawler.sink.backlog import status_report


def test_a_managed_node_that_refuses_darkcrawls_credentials_is_unhealthy(monkeypatch, tmp_path):
    """The managed node answers its own credentials file; DARKCRAWL_ES_PASSWORD set to something else makes every
    command fail with 401, so `es status` / `status` must say unhealthy, with that reason (they said healthy)."""
    from crawler.config import load_settings
    from crawler.errors import ServiceError
    from crawler.es import node, status

    settings = load_settings(environ={}, overrides={"DARKCRAWL_DATA_DIR": str(tmp_path),
                                                    "DARKCRAWL_ES_USERNAME": "elastic",
                                                    "DARKCRAWL_ES_PASSWORD": "wrong-password"})
    monkeypatch.setattr(node, "status", lambda instance: node.NodeStatus(
        running=True, healthy=True, url="http://127.0.0.1:9200", pid=1, version="9.5.4", health="green",
        message="Elasticsearch 9.5.4 is up at http://127.0.0.1:9200"))

    def refuse(settings):
        raise ServiceError("Elasticsearch at http://127.0.0.1:9200 refused the credentials (401): check ...")

    monkeypatch.setattr(status, "check_cluster", refuse)
    report = status_report(settings)
    assert report["healthy"] is False and "refused the credentials (401)" in report["message"]
    monkeypatch.setattr(status, "check_cluster", lambda settings: "9.5.4")
    assert status_report(settings)["healthy"] is True
