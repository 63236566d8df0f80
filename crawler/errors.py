"""Errors darkcrawl reports to people: each message names what went wrong and what to do about it.

The CLI prints them as one line (``darkcrawl: error: ...``) and exits with the class's ``exit_code``; no traceback.
"""

from __future__ import annotations


class DarkcrawlError(Exception):
    """Base of the errors that the CLI prints as one line."""

    exit_code = 1


class UsageError(DarkcrawlError):
    """The command line or an input file given on it is wrong."""

    exit_code = 2


class ServiceError(DarkcrawlError):
    """A service darkcrawl needs (tor, Elasticsearch, Java) is missing, down or misconfigured."""

    exit_code = 3
