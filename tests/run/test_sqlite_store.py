"""The store contract (store_contract.py) against the SQLite store, and what only SQLite does."""
from __future__ import annotations

import pytest

from funnelspec.run.sqlite_store import SqliteStore
from funnelspec.run.store import StoreError, open_store
from store_contract import *  # noqa: F401,F403 - the shared contract tests


@pytest.fixture
def store(tmp_path):
    opened = open_store(str(tmp_path / "state.db"))
    yield opened
    opened.close()


def test_open_store_picks_sqlite_for_a_path(tmp_path):
    store = open_store(str(tmp_path / "s.db"))
    assert isinstance(store, SqliteStore)
    store.close()


def test_reopened_store_keeps_everything(tmp_path):
    path = str(tmp_path / "s.db")
    store = open_store(path)
    with store.transaction() as tx:
        tx.claim_event("e1", "D1")
        tx.set_meta("spec", "h")
    store.close()
    again = open_store(path)
    with again.transaction() as tx:
        assert tx.claim_event("e1", "D1") is False
    assert again.meta("spec") == "h"
    again.close()


def test_a_file_that_is_no_store(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite\n" * 100)
    with pytest.raises(StoreError, match="is not a database"):
        open_store(str(path))


def test_a_missing_folder(tmp_path):
    with pytest.raises(StoreError, match="cannot open the store"):
        open_store(str(tmp_path / "no" / "such" / "s.db"))


def test_a_postgresql_url_without_its_driver_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "funnelspec.run.postgres_store", None)    # as if it were not installed
    with pytest.raises(StoreError, match=r"pip install 'funnelspec\[postgres\]'"):
        open_store("postgresql://funnel@127.0.0.1:5432/funnel")
