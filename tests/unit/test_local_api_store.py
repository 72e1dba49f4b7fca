"""The local API's embedded store: saved, loaded again, installed as the functions' database."""

from __future__ import annotations

from pathlib import Path

from local_api.store import EmbeddedStore
from shared import db


def test_saved_documents_load_into_a_new_store(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.client["db"]["things"].insert_many([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}])
    store.save()

    again = EmbeddedStore(tmp_path)

    assert again.load() == 2
    assert list(again.client["db"]["things"].find({}, sort=[("_id", 1)])) == [
        {"_id": "a", "n": 1},
        {"_id": "b", "n": 2},
    ]


def test_install_makes_the_store_the_functions_database(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    store.client["emergent_db"]["status_checks"].insert_one({"_id": "x"})

    store.install()

    assert db.get_database().status_checks.find_one({}) == {"_id": "x"}
