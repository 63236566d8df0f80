"""Kibana for analysts: darkcrawl's saved objects and their import. Documented in deploy/README.md ("Kibana").

* :mod:`crawler.kibana.objects` -- data views, saved searches, charts and the dashboard, rendered as NDJSON.
* :mod:`crawler.kibana.importer` -- ``POST /api/saved_objects/_import`` with authentication and TLS verification.
"""
