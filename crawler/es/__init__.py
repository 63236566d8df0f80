"""Elasticsearch for darkcrawl: the managed local node, the client, the index templates. Documented in docs/schema.md.

* :mod:`crawler.es.install` -- fetch the distribution from Maven Central, unpack it, create the system user it runs as.
* :mod:`crawler.es.node` -- start, stop and inspect the managed single-node cluster on loopback.
* :mod:`crawler.es.client` -- ``es_client(settings)`` and ``es_sync_client(settings)``: the managed node or an
  external cluster (``DARKCRAWL_ES_URL``), with clear errors when it cannot be reached or refuses the credentials.
* :mod:`crawler.es.templates` -- the mappings and composable index templates (pure data, ``SCHEMA_VERSION``).
* :mod:`crawler.es.schema` -- ``index_names(settings)``, and installing templates and first indices (``es init``).
"""
