"""The layer rules (pyproject.toml, checked by lint-imports) name every package and module of darkcrawl.

lint-imports only checks the modules a contract names: a new module left out of the layers would be free to import
anything. This test fails until it is placed (docs/architecture.md says where things go)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layered_names() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [contract for contract in config["contracts"] if contract["type"] == "layers"]
    names: set[str] = set()
    for layer in layers["layers"]:
        names.update(part.strip() for part in layer.replace("|", ":").split(":"))
    return names


def project_modules() -> set[str]:
    """crawler's and pipelines' direct children (modules and packages), and the spiders package."""
    found = {"spiders"}
    for package in ("crawler", "pipelines"):
        for path in (ROOT / package).iterdir():
            if path.name.startswith(("_", ".")):
                continue
            if path.suffix == ".py":
                found.add(f"{package}.{path.stem}")
            elif (path / "__init__.py").exists():
                found.add(f"{package}.{path.name}")
    return found


def test_every_module_has_a_layer():
    names = layered_names()
    assert not project_modules() - names, "modules missing from [tool.importlinter] layers in pyproject.toml"


def test_every_layer_names_a_module_that_exists():
    assert not layered_names() - project_modules(), "layers naming modules that no longer exist"
