"""Reading the operator's YAML files (watch lists, vendor rules) with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import yaml

from crawler.errors import UsageError


def compose_yaml_file(path: Path, what: str) -> tuple[str, yaml.Node | None]:
    """Return the text of *path* and its YAML node tree (None for an empty file).

    Raises :class:`UsageError` naming *what* ("watch list", "vendor rules"), the file and the line of the problem.
    """
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror or exc}); check the path") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path}: not UTF-8 text; save it as UTF-8") from None
    try:
        return source, yaml.compose(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"{where}: invalid YAML ({problem}); fix the file") from None
