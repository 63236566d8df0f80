"""The watch store (SQLite) and the Watch model: round trip, names, states, masked targets."""

from __future__ import annotations

import os
import stat

import pytest

from crawler.errors import UsageError
from crawler.watch.model import ENTITY, TERM, Watch, mask_target
from crawler.watch.store import WatchStore
from tests.unit.watch_support import watch


@pytest.fixture
def store(tmp_path):
    with WatchStore(tmp_path / "watch" / "watches.db") as opened:
        yield opened


def test_round_trip_keeps_every_field(store, tmp_path):
    original = watch(TERM, {"terms": ["carte bancaire", "Kokaïne"], "languages": ["fr"]}, name="cards",
                     owner="analyst", severity="high", tags=["fraud", "fr"],
                     targets=["mailto://u:secret@mail.example.org?to=soc@example.org"], realert_seconds=3600,
                     digest_seconds=900)
    store.add(original)
    with WatchStore(tmp_path / "watch" / "watches.db") as other:  # another process's view
        assert other.get(original.id) == original
        assert other.get("cards") == original
    assert Watch.from_json(original.to_json()) == original


def test_the_file_is_owner_only(store):
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700


def test_names_are_unique(store):
    store.add(watch(TERM, {"terms": ["a"], "languages": []}, name="same"))
    with pytest.raises(UsageError, match="exists already"):
        store.add(watch(ENTITY, {"entity_kind": "email", "value": "a@b.org"}, name="same"))


def test_pause_resume_remove_and_active_watches(store):
    first = store.add(watch(TERM, {"terms": ["a"], "languages": []}, name="first"))
    second = store.add(watch(TERM, {"terms": ["b"], "languages": []}, name="second"))
    assert store.set_state(first.id, "paused").state == "paused"
    assert [w.id for w in store.active_watches()] == [second.id]
    store.set_state("first", "active")
    assert {w.id for w in store.active_watches()} == {first.id, second.id}
    assert store.remove(second.id).name == "second"
    assert [w.id for w in store.watches()] == [first.id]
    with pytest.raises(UsageError, match="no watch 'second'"):
        store.get("second")
    with pytest.raises(UsageError):
        store.set_state(first.id, "sleeping")


@pytest.mark.parametrize(("target", "masked", "secrets"), [
    ("mailto://alice:s3cretpw@mail.example.org?to=soc@example.org", "mailto://alice:***@mail.example.org?to=***",
     ["s3cretpw"]),
    ("json://127.0.0.1:8080/hook/TOKEN1234", "json://127.0.0.1:8080/***/***", ["TOKEN1234"]),
    ("slack://TA1234/TB5678/TC9012/#alerts", "slack://***/***/***/***", ["TA1234", "TB5678", "TC9012"]),
    ("mmost://mm.example.org/abcdtoken", "mmost://mm.example.org/***", ["abcdtoken"]),
    ("matrix://TOKEN5678@matrix.example.org/#room", "matrix://***@matrix.example.org/***", ["TOKEN5678"]),
    ("police-team", "police-team", []),
])
def test_targets_are_masked(target, masked, secrets):
    assert mask_target(target) == masked
    shown = watch(TERM, {"terms": ["a"], "languages": []}, targets=[target]).to_public_json()
    assert all(secret not in str(shown) for secret in secrets)
