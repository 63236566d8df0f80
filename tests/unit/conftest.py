"""Fixtures shared by unit tests of several modules."""

from tests.unit.tor_support import fake_tor  # noqa: F401  (a fixture: loopback servers that act as a tor, silent or hanging)
