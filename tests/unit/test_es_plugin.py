"""The analysis plugin's build bookkeeping (no Maven here: the session's test node is installed with the real build,
and tests/integration/test_search_languages.py exercises the plugin on it)."""

from __future__ import annotations

import pytest

from crawler.errors import ServiceError
from crawler.es import plugin
from crawler.es.plugin import PLUGIN_NAME, build_id, installed_build, lucene_version, source_files


def test_sources_ship_with_the_package_and_exclude_build_output():
    names = {path.relative_to(plugin.SOURCES).as_posix() for path in source_files()}
    assert {"pom.xml", "src/plugin/stable-plugin-descriptor.properties", "src/plugin/named_components.json",
            "src/assembly/plugin.xml"} <= names
    assert not any(name.startswith("target/") for name in names)


def test_build_id_names_the_sources_and_both_versions():
    first = build_id("9.5.4", "10.5.1")
    assert len(first) == 12 and first == build_id("9.5.4", "10.5.1")
    assert first != build_id("9.5.5", "10.5.1") and first != build_id("9.5.4", "10.5.2")


def test_build_id_changes_with_a_source(tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "analysis-plugin"
    shutil.copytree(plugin.SOURCES, copy, ignore=shutil.ignore_patterns("target"))
    monkeypatch.setattr(plugin, "SOURCES", copy)
    before = build_id("9.5.4", "10.5.1")
    (copy / "target").mkdir()
    (copy / "target" / "junk.class").write_bytes(b"\xca\xfe")
    assert build_id("9.5.4", "10.5.1") == before  # build output is not a source
    java = next(copy.rglob("Chain.java"))
    java.write_text(java.read_text() + "\n// changed\n")
    assert build_id("9.5.4", "10.5.1") != before


def test_missing_sources_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(plugin, "SOURCES", tmp_path / "nowhere")
    with pytest.raises(ServiceError, match="analysis plugin's sources are missing"):
        source_files()


def test_lucene_version_is_read_from_the_distribution(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "lucene-analysis-common-10.5.1.jar").touch()
    (tmp_path / "lib" / "lucene-core-10.5.1.jar").touch()
    assert lucene_version(tmp_path) == "10.5.1"
    (tmp_path / "lib" / "lucene-core-10.5.1.jar").unlink()
    with pytest.raises(ServiceError, match="no lucene-core jar"):
        lucene_version(tmp_path)


def test_installed_build_from_the_descriptor(tmp_path):
    assert installed_build(tmp_path) is None
    descriptor = tmp_path / "plugins" / PLUGIN_NAME / "stable-plugin-descriptor.properties"
    descriptor.parent.mkdir(parents=True)
    descriptor.write_text("name=darkcrawl-analysis\nversion=1.0.0+e09eb1c4be86\nelasticsearch.version=9.5.4\n")
    assert installed_build(tmp_path) == "e09eb1c4be86"
    descriptor.write_text("name=darkcrawl-analysis\nversion=1.0.0\n")
    assert installed_build(tmp_path) == ""  # installed by hand, unknown build: replaced by es install
