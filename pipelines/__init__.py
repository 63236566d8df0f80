"""Item pipeline stages. The extraction logic itself is pure and lives in :mod:`pipelines.extract`."""
