"""Where the client connects and how it authenticates, from the settings; the one-line errors it raises."""

from __future__ import annotations

import json

import pytest
from elastic_transport import ConnectionError as TransportConnectionError

from crawler.config import load_settings
from crawler.errors import ServiceError, UsageError
from crawler.es.client import connection_options, es_client, es_sync_client, service_error
from tests.tls import make_server


def settings(**overrides):
    return load_settings(overrides=overrides, environ={})


def managed(tmp_path, **overrides):
    node = tmp_path / "node"
    node.mkdir(exist_ok=True)
    (node / "es-credentials.json").write_text(json.dumps({"username": "elastic", "password": "pw1"}))
    return settings(DARKCRAWL_ES_HOME=str(tmp_path), DARKCRAWL_ES_PORT="9277", **overrides)


def test_managed_node_uses_its_stored_credentials(tmp_path):
    connection = connection_options(managed(tmp_path))
    assert connection.managed and connection.url == "http://127.0.0.1:9277"
    assert connection.client_kwargs()["basic_auth"] == ("elastic", "pw1")


def test_explicit_credentials_win_over_the_stored_ones(tmp_path):
    connection = connection_options(managed(tmp_path, DARKCRAWL_ES_USERNAME="ops", DARKCRAWL_ES_PASSWORD="pw2"))
    assert connection.client_kwargs()["basic_auth"] == ("ops", "pw2")
    keyed = connection_options(managed(tmp_path, DARKCRAWL_ES_API_KEY="a2V5"))
    assert keyed.client_kwargs()["api_key"] == "a2V5" and "basic_auth" not in keyed.client_kwargs()


def test_managed_node_without_credentials_file_is_a_clear_error(tmp_path):
    with pytest.raises(ServiceError, match="run darkcrawl es start"):
        connection_options(settings(DARKCRAWL_ES_HOME=str(tmp_path)))


def test_external_cluster(tmp_path):
    ca = make_server(tmp_path).ca
    connection = connection_options(settings(DARKCRAWL_ES_URL="https://es.example:9243/", DARKCRAWL_ES_USERNAME="u",
                                             DARKCRAWL_ES_PASSWORD="p", DARKCRAWL_ES_CA_CERTS=str(ca)))
    assert not connection.managed
    kwargs = connection.client_kwargs()
    assert kwargs["hosts"] == ["https://es.example:9243"]
    assert kwargs["basic_auth"] == ("u", "p") and kwargs["ca_certs"] == str(ca)


def test_bad_urls_and_ca_files_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="must start with http:// or https://"):
        connection_options(settings(DARKCRAWL_ES_URL="es.example:9200"))
    with pytest.raises(UsageError, match="DARKCRAWL_ES_CA_CERTS"):
        connection_options(settings(DARKCRAWL_ES_URL="https://es:9200", DARKCRAWL_ES_CA_CERTS=str(tmp_path / "no")))
    with pytest.raises(UsageError, match="DARKCRAWL_ES_URL"):
        es_sync_client(settings(DARKCRAWL_ES_URL="http://es.example"))
    with pytest.raises(UsageError, match="DARKCRAWL_ES_URL"):
        es_client(settings(DARKCRAWL_ES_URL="http://es.example"))


def test_connection_failure_becomes_one_line_with_the_fix():
    error = service_error(TransportConnectionError("refused"), "http://127.0.0.1:9200")
    assert isinstance(error, ServiceError)
    assert str(error) == (
        "Elasticsearch at http://127.0.0.1:9200 cannot be reached: start it with darkcrawl es start, "
        "or fix DARKCRAWL_ES_URL"
    )


def test_untrusted_certificate_names_the_ca_setting():
    from elastic_transport import TlsError

    cause = "TLS error caused by: SSLError([SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to " \
            "get local issuer certificate (_ssl.c:1000))"
    error = service_error(TlsError(cause), "https://es.example:9200")
    assert str(error) == (
        "Elasticsearch at https://es.example:9200: TLS failed, its certificate is not trusted (unable to get local "
        "issuer certificate): set DARKCRAWL_ES_CA_CERTS to the CA file that signed it (PEM)"
    )


def test_a_plain_http_url_against_tls_gets_a_hint():
    error = service_error(TransportConnectionError("Connection aborted: RemoteDisconnected"), "http://es:9200")
    assert "(if it serves HTTPS, use an https:// URL)" in str(error)
    refused = service_error(TransportConnectionError("[Errno 111] Connection refused"), "http://es:9200")
    assert "https://" not in str(refused)


def test_a_ca_file_that_is_not_pem_is_a_usage_error(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    overrides = {"DARKCRAWL_ES_URL": "https://es.example:9200", "DARKCRAWL_ES_CA_CERTS": str(bogus)}
    with pytest.raises(UsageError, match="not a readable PEM CA certificate"):
        es_sync_client(settings(**overrides))
    with pytest.raises(UsageError, match="not a readable PEM CA certificate"):
        es_client(settings(**overrides))


def test_secrets_stay_out_of_the_connection_repr():
    connection = connection_options(settings(DARKCRAWL_ES_URL="https://es:9200", DARKCRAWL_ES_USERNAME="u",
                                             DARKCRAWL_ES_PASSWORD="pw-secret", DARKCRAWL_ES_API_KEY="key-secret"))
    assert "pw-secret" not in repr(connection) and "key-secret" not in repr(connection)


def test_a_ca_file_with_a_plain_http_url(tmp_path):
    ca = make_server(tmp_path).ca
    with pytest.raises(UsageError, match="DARKCRAWL_ES_CA_CERTS is set but DARKCRAWL_ES_URL=http://es:9200 is plain"):
        connection_options(settings(DARKCRAWL_ES_URL="http://es:9200", DARKCRAWL_ES_CA_CERTS=str(ca)))
    managed_connection = connection_options(managed(tmp_path, DARKCRAWL_ES_CA_CERTS=str(ca)))
    assert "ca_certs" not in managed_connection.client_kwargs()


def test_scrapy_start_up_log_never_lists_darkcrawl_secrets():
    """Scrapy logs 'Overridden settings' when a crawl starts: only its own settings, never DARKCRAWL_* secrets."""
    from scrapy.settings import overridden_settings

    secret_settings = settings(DARKCRAWL_ES_API_KEY="key-secret", DARKCRAWL_ES_PASSWORD="pw-secret",
                               DARKCRAWL_KIBANA_API_KEY="kb-secret", DARKCRAWL_TOR_CONTROL_PASSWORD="tor-secret")
    logged = repr(dict(overridden_settings(secret_settings)))
    assert logged != "{}"  # darkcrawl does override Scrapy settings: the check looks at a real listing
    for secret in ("key-secret", "pw-secret", "kb-secret", "tor-secret"):
        assert secret not in logged
