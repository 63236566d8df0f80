"""Secrets are masked by one rule wherever darkcrawl prints, logs or records something."""

import logging

from crawler.config import load_settings
from crawler.evidence.manifest import recorded_settings
from crawler.redact import MaskingFormatter, mask_data, mask_text, mask_url, secret_values


def test_url_userinfo_and_query_secrets_are_masked():
    assert mask_url("http://elastic:PW@127.0.0.1:9200/x") == "http://***@127.0.0.1:9200/x"
    assert mask_url("redis://:pw@redis:6379/0") == "redis://***@redis:6379/0"
    assert mask_url("https://TOKEN@es.example/") == "https://***@es.example/"
    assert mask_url("https://es.example/?api_key=abc&size=1") == "https://es.example/?api_key=***&size=1"
    assert mask_url("http://127.0.0.1:9200") == "http://127.0.0.1:9200"
    text = "Elasticsearch at 'http://u:p%40ss@h:1' failed; Authorization: ApiKey c2VjcmV0 sent"
    assert mask_text(text) == "Elasticsearch at 'http://***@h:1' failed; Authorization: ApiKey *** sent"


def test_configured_secrets_are_masked_in_any_text_and_data():
    settings = load_settings(environ={}, overrides={"DARKCRAWL_ES_API_KEY": "bm90OmEta2V5",
                                                    "DARKCRAWL_REDIS_URL": "redis://:hunter22@r:6379/0"})
    secrets = secret_values(settings)
    assert set(secrets) == {"bm90OmEta2V5", "hunter22"}
    assert mask_text("key bm90OmEta2V5 refused, hunter22 too", secrets) == "key *** refused, *** too"
    assert mask_data({"a": ["x hunter22"], "n": 1}, secrets) == {"a": ["x ***"], "n": 1}


def test_the_manifest_records_urls_without_passwords():
    settings = load_settings(environ={}, overrides={"DARKCRAWL_ES_URL": "https://darkcrawl:PW1234@es:9200",
                                                    "DARKCRAWL_ES_PASSWORD": "other-secret"})
    recorded = recorded_settings(settings)
    assert recorded["DARKCRAWL_ES_URL"] == "https://***@es:9200"
    assert "DARKCRAWL_ES_PASSWORD" not in recorded and "PW1234" not in str(recorded)


def test_log_lines_are_masked():
    formatter = MaskingFormatter("%(message)s")
    formatter.secrets = ("s3cr3t-key",)
    record = logging.LogRecord("x", logging.INFO, "", 0, "to %s with %s", ("http://a:b@h/", "s3cr3t-key"), None)
    assert formatter.format(record) == "to http://***@h/ with ***"
