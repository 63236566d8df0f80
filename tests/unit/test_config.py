import pytest

from crawler.config import ConfigError, load_settings


def test_defaults_then_file_then_environment(tmp_path):
    config = tmp_path / "darkcrawl.toml"
    config.write_text('[darkcrawl]\nes_port = 9300\nmax_pages = 10\n[scrapy]\nDOWNLOAD_DELAY = 2\n')
    settings = load_settings(config_file=config, environ={"DARKCRAWL_MAX_PAGES": "20"})
    assert settings.getint("DARKCRAWL_ES_PORT") == 9300
    assert settings.getint("DARKCRAWL_MAX_PAGES") == 20
    assert settings.getfloat("DOWNLOAD_DELAY") == 2
    assert load_settings(environ={}).getint("DARKCRAWL_ES_PORT") == 9200


def test_unknown_key_is_named(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[darkcrawl]\nes_prot = 9300\n")
    with pytest.raises(ConfigError, match="unknown key 'es_prot'"):
        load_settings(config_file=config, environ={})


def test_wrong_type_is_named(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[darkcrawl]\nes_port = "high"\n')
    with pytest.raises(ConfigError, match="DARKCRAWL_ES_PORT must be a int"):
        load_settings(config_file=config, environ={})
    with pytest.raises(ConfigError, match="DARKCRAWL_ALLOW_CLEARNET"):
        load_settings(environ={"DARKCRAWL_ALLOW_CLEARNET": "perhaps"})


def test_invalid_toml_and_missing_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[darkcrawl\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config_file=config, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "missing.toml", environ={})


def test_unknown_environment_variable_is_named():
    with pytest.raises(ConfigError, match="DARKCRAWL_ES_ULR"):
        load_settings(environ={"DARKCRAWL_ES_ULR": "http://x"})


def test_lists_from_environment():
    settings = load_settings(environ={"DARKCRAWL_ALLOWED_CONTENT_TYPES": "text/html, text/plain"})
    assert settings.getlist("DARKCRAWL_ALLOWED_CONTENT_TYPES") == ["text/html", "text/plain"]
    settings = load_settings(environ={"DARKCRAWL_TOR_EXTRA_CONFIG": '["A 1", "B 2"]'})
    assert settings.getlist("DARKCRAWL_TOR_EXTRA_CONFIG") == ["A 1", "B 2"]


def test_test_suite_variables_are_not_settings():
    settings = load_settings(environ={"DARKCRAWL_TEST_ES_URL": "http://127.0.0.1:1"})
    assert settings.get("DARKCRAWL_TEST_ES_URL") is None


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"darkcrawl = 5\n", "darkcrawl must be a table"),
        (b"[darkcrawl]\nmax_pages = 1\n\xff\xfe\n", "is not UTF-8 text (byte 0xff at offset 26)"),
        (b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n", "nests arrays or tables too deeply"),
        (b"[darkcrawl]\nwatchlists = [1, 2]\n", "DARKCRAWL_WATCHLISTS must be a list of strings, got 1"),
        (b"[darkcrawl]\nmax_pages = -5\n", "DARKCRAWL_MAX_PAGES must be at least 0, got -5"),
        (b"[darkcrawl]\nes_flush_interval = nan\n", "DARKCRAWL_ES_FLUSH_INTERVAL must be a finite number"),
        (b"[darkcrawl]\ntor_check_interval = 0\n", "DARKCRAWL_TOR_CHECK_INTERVAL must be more than 0"),
        (b"[darkcrawl]\nes_port = 70000\n", "DARKCRAWL_ES_PORT must be between 1 and 65535, got 70000"),
        (b"[darkcrawl]\nextract_timeout = 0\n", "DARKCRAWL_EXTRACT_TIMEOUT must be more than 0"),
        (b"[darkcrawl]\nextract_workers = -2\n", "DARKCRAWL_EXTRACT_WORKERS must be between 0 and 256, got -2"),
        (b"[darkcrawl]\nredis_bloom_error_rate = 1.0\n", "DARKCRAWL_REDIS_BLOOM_ERROR_RATE must be less than 1"),
        (b"[scrapy]\nCONCURRENT_REQUESTS = -1\n", "CONCURRENT_REQUESTS must be at least 1, got -1"),
        (b"[scrapy]\nDOWNLOAD_DELAY = inf\n", "DOWNLOAD_DELAY must be a finite number"),
        (b"[scrapy]\nDOWNLOAD_TIMEOUT = 0\n", "DOWNLOAD_TIMEOUT must be more than 0"),
        (b'[scrapy]\nCONCURRENT_REQUESTS = "16"\n', "[scrapy] CONCURRENT_REQUESTS must be an int"),
        (b'[darkcrawl]\nes_api_key = 123456789\n', "DARKCRAWL_ES_API_KEY must be a str, got a value of another type"),
    ],
)
def test_bad_config_files_are_named_errors(tmp_path, content, says):
    config = tmp_path / "c.toml"
    config.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        load_settings(config_file=config, environ={})
    assert says in str(raised.value) and str(config) in str(raised.value)
    assert "123456789" not in str(raised.value)


def test_a_directory_is_no_config_file(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(config_file=tmp_path, environ={})


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [("DARKCRAWL_MAX_PAGES_PER_SITE", "-1", "at least 0"), ("DARKCRAWL_TOR_INSTANCES", "0", "between 1 and 64"),
     ("DARKCRAWL_ES_FLUSH_INTERVAL", "inf", "finite"), ("DARKCRAWL_RECRAWL_BACKOFF", "0.5", "at least 1"),
     ("DARKCRAWL_WATCHLISTS", "[1, 2]", "list of strings"), ("DARKCRAWL_TOR_EXTRA_SOCKS", "9", "between 0 and 8")],
)
def test_bad_numbers_from_the_environment_are_named(name, value, says):
    with pytest.raises(ConfigError, match=f"environment: {name} must be .*{says}"):
        load_settings(environ={name: value})


def test_good_edge_values_pass(tmp_path):
    config = tmp_path / "c.toml"
    config.write_bytes(b"\xef\xbb\xbf[darkcrawl]\nmax_pages = 0\nmetrics_port = 0\n[scrapy]\nDEPTH_PRIORITY = -1\n"
                       b"DOWNLOAD_DELAY = 0\nCONCURRENT_REQUESTS = 1\n")
    settings = load_settings(config_file=config, environ={"DARKCRAWL_REDIS_BLOOM_ERROR_RATE": "0.01"})
    assert settings.getint("DARKCRAWL_METRICS_PORT") == 0 and settings.getint("DEPTH_PRIORITY") == -1


def test_a_config_file_with_a_secret_that_others_can_read_is_warned_about(tmp_path, caplog):
    config = tmp_path / "c.toml"
    config.write_text('[darkcrawl]\nes_url = "https://darkcrawl:hunter22@es.internal:9200"\n')
    config.chmod(0o644)
    load_settings(config_file=config, environ={})
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 1 and f"chmod 600 {config}" in warnings[0] and "DARKCRAWL_ES_URL" in warnings[0]
    assert "hunter22" not in warnings[0]
    caplog.clear()
    config.chmod(0o600)
    load_settings(config_file=config, environ={})
    plain = tmp_path / "plain.toml"
    plain.write_text("[darkcrawl]\nmax_pages = 3\n")
    plain.chmod(0o644)
    load_settings(config_file=plain, environ={})
    assert not [record for record in caplog.records if record.levelname == "WARNING"]


def test_setting_values_answer_as_scrapy_settings_do(tmp_path):
    """`darkcrawl extract` reads its settings without Scrapy (crawler.config.load_values): the same value from every
    getter for every setting darkcrawl defines, from the same file and environment."""
    from crawler.config import darkcrawl_defaults, load_values

    config = tmp_path / "darkcrawl.toml"
    config.write_text('[darkcrawl]\nes_port = 9300\nwatchlists = ["a.yaml", "b.yaml"]\nextract_timeout = 2.5\n')
    environ = {"DARKCRAWL_MAX_PAGES": "20", "DARKCRAWL_VENDOR_RULES": "x.yaml,y.yaml", "DARKCRAWL_ALLOW_CLEARNET": "1"}
    settings = load_settings(config_file=config, environ=environ)
    values = load_values(config_file=config, environ=environ)
    assert values.getint("DARKCRAWL_ES_PORT") == 9300 and values.getlist("DARKCRAWL_WATCHLISTS") == ["a.yaml", "b.yaml"]
    for name in darkcrawl_defaults():
        assert values.get(name) == settings.get(name), name
        assert values.get(name, "fallback") == settings.get(name, "fallback"), name
        for getter in ("getbool", "getint", "getfloat", "getlist"):
            try:
                expected = getattr(settings, getter)(name)
            except (TypeError, ValueError):
                continue
            assert getattr(values, getter)(name) == expected, (getter, name)
    assert values.get("DARKCRAWL_NO_SUCH", 3) == settings.get("DARKCRAWL_NO_SUCH", 3) == 3
    assert values.getlist("DARKCRAWL_NO_SUCH") == [] and values.getbool("DARKCRAWL_NO_SUCH") is False


def test_setting_values_have_the_same_errors(tmp_path):
    from crawler.config import load_values

    config = tmp_path / "c.toml"
    config.write_text("[darkcrawl]\nes_prot = 9300\n")
    with pytest.raises(ConfigError, match="unknown key 'es_prot'"):
        load_values(config_file=config, environ={})
    with pytest.raises(ConfigError, match="DARKCRAWL_ALLOW_CLEARNET"):
        load_values(environ={"DARKCRAWL_ALLOW_CLEARNET": "perhaps"})
