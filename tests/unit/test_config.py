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
