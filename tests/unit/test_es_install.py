"""Installing the managed node's pieces: choosing a JDK, the version and home settings, unpacking the zip."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from crawler.config import load_settings
from crawler.errors import ServiceError, UsageError
from crawler.es import install


def fake_jdk(root: Path, name: str, version: str) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\nexit 0\n")
    (home / "bin" / "java").chmod(0o755)
    (home / "release").write_text(f'IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="{version}"\n')
    return home


def settings(**overrides):
    return load_settings(overrides=overrides, environ={})


def test_newest_temurin_of_21_or_later_is_chosen(tmp_path, monkeypatch):
    monkeypatch.setattr(install, "JVM_ROOT", tmp_path)
    fake_jdk(tmp_path, "temurin-17-jdk-amd64", "17.0.12")
    fake_jdk(tmp_path, "temurin-21-jdk-amd64", "21.0.5")
    newest = fake_jdk(tmp_path, "temurin-25-jdk-amd64", "25.0.1")
    fake_jdk(tmp_path, "java-26-openjdk-amd64", "26")  # not Temurin: not picked automatically
    assert install.find_java(settings()) == newest


def test_no_suitable_jdk_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(install, "JVM_ROOT", tmp_path)
    fake_jdk(tmp_path, "temurin-17-jdk-amd64", "17.0.12")
    with pytest.raises(ServiceError, match=r"no Temurin JDK 21\+ under .*DARKCRAWL_JAVA_HOME"):
        install.find_java(settings())


def test_configured_java_home_is_checked(tmp_path):
    old = fake_jdk(tmp_path, "old", "17.0.2")
    with pytest.raises(ServiceError, match=r"is Java 17; Elasticsearch 9 needs 21\+"):
        install.find_java(settings(DARKCRAWL_JAVA_HOME=str(old)))
    with pytest.raises(ServiceError, match="holds no JDK"):
        install.find_java(settings(DARKCRAWL_JAVA_HOME=str(tmp_path / "missing")))
    good = fake_jdk(tmp_path, "good", "25")
    assert install.find_java(settings(DARKCRAWL_JAVA_HOME=str(good))) == good


@pytest.mark.parametrize("version", ["8.17.0", "9.5", "latest", "9.5.4-SNAPSHOT", ""])
def test_only_9x_versions_are_accepted(version):
    with pytest.raises(UsageError, match="DARKCRAWL_ES_VERSION"):
        install.es_version(settings(DARKCRAWL_ES_VERSION=version))


def test_home_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr(install, "is_root", lambda: True)
    assert install.es_home(settings()) == Path("/var/lib/darkcrawl/elasticsearch")
    assert install.service_user(settings()) == "darkcrawl"
    monkeypatch.setattr(install, "is_root", lambda: False)
    assert install.es_home(settings(DARKCRAWL_DATA_DIR=str(tmp_path))) == tmp_path / "elasticsearch"
    assert install.service_user(settings()) is None
    assert install.distribution_dir(settings(DARKCRAWL_ES_HOME=str(tmp_path))) == tmp_path / "elasticsearch-9.5.4"


def test_maven_path_follows_the_repository_layout():
    path = install.maven_zip_path("9.5.4")
    assert path.name == "elasticsearch-9.5.4.zip"
    assert "org/elasticsearch/distribution/integ-test-zip/elasticsearch/9.5.4" in path.as_posix()


def make_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        script = zipfile.ZipInfo("elasticsearch-9.5.4/bin/elasticsearch")
        script.external_attr = (stat.S_IFREG | 0o755) << 16
        bundle.writestr(script, "#!/bin/sh\n")
        config = zipfile.ZipInfo("elasticsearch-9.5.4/config/jvm.options")
        config.external_attr = (stat.S_IFREG | 0o644) << 16
        bundle.writestr(config, "-Xss1m\n")
        bundle.writestr("elasticsearch-9.5.4/../../escape.txt", "nope")
    return path


def test_unpack_keeps_modes_strips_the_top_directory_and_refuses_escapes(tmp_path):
    archive = make_zip(tmp_path / "es.zip")
    target = tmp_path / "home" / "elasticsearch-9.5.4"
    target.parent.mkdir()
    install.unpack(archive, target, lambda message: None)
    launcher = target / "bin" / "elasticsearch"
    assert launcher.read_text() == "#!/bin/sh\n"
    assert os.stat(launcher).st_mode & 0o777 == 0o755
    assert os.stat(target / "config" / "jvm.options").st_mode & 0o777 == 0o644
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "home" / "escape.txt").exists()
    assert [path.name for path in target.parent.iterdir()] == ["elasticsearch-9.5.4"]  # no partial dir left


def test_unpack_of_a_broken_zip_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    target = tmp_path / "elasticsearch-9.5.4"
    with pytest.raises(ServiceError, match="is not a valid zip: delete it"):
        install.unpack(broken, target, lambda message: None)
    assert not target.exists()
