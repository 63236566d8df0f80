"""For scrapyd-deploy only (it builds an egg with ``setup.py bdist_egg``); everything is declared in pyproject.toml."""

from setuptools import setup

setup()
