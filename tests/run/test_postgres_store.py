"""The store contract (store_contract.py) against the PostgreSQL store, and what only PostgreSQL does."""
from __future__ import annotations

import threading

import pytest

from store_contract import *  # noqa: F401,F403 - the shared contract tests


@pytest.fixture
def store(postgres_server):
    from funnelspec.run.store import open_store

    opened = open_store(postgres_server.new_database())
    yield opened
    opened.close()


@pytest.fixture
def url(postgres_server):
    return postgres_server.new_database()


def _open(url):
    from funnelspec.run.store import open_store

    return open_store(url)


def _deal(name: str, n: int, due: float | None = None):
    from funnelspec.run.store import StoredDeal

    return StoredDeal(name, "sales", "new", "h1", due, {"n": n})


def test_open_store_picks_postgres_for_a_url(url):
    from funnelspec.run.postgres_store import PostgresStore

    store = _open(url)
    assert isinstance(store, PostgresStore)
    store.close()


def test_two_stores_change_one_new_deal_one_after_the_other(url):
    """The second process waits for the first one's deal (even one that has no row yet), then reads its commit."""
    first, second = _open(url), _open(url)
    entered, done, seen = threading.Event(), threading.Event(), []

    def other():
        entered.wait(10)
        with second.transaction() as tx:
            loaded = tx.load_deal("D1")           # blocks until `first` commits
            seen.append(loaded.state["n"] if loaded else None)
            tx.save_deal(_deal("D1", (loaded.state["n"] if loaded else 0) + 1))
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with first.transaction() as tx:
        assert tx.load_deal("D1") is None
        entered.set()
        assert not done.wait(0.5)                 # still waiting for our lock
        tx.save_deal(_deal("D1", 1))
    thread.join(10)
    assert seen == [1] and first.deal("D1").state == {"n": 2}
    first.close(), second.close()


def test_a_due_timer_is_taken_by_one_process(url):
    first, second = _open(url), _open(url)
    with first.transaction() as tx:
        for n in range(6):
            tx.save_deal(_deal(f"D{n}", n, due=float(n)))
    with first.transaction() as tx1, second.transaction() as tx2:
        mine = tx1.due_deals(10.0, limit=4)
        theirs = tx2.due_deals(10.0)
    assert mine == ["D0", "D1", "D2", "D3"] and theirs == ["D4", "D5"]
    first.close(), second.close()


def test_one_event_claimed_by_one_of_two_processes(url):
    first, second = _open(url), _open(url)
    claims = []

    def other():
        with second.transaction() as tx:
            claims.append(("second", tx.claim_event("e1", "D1")))   # waits for the first commit

    with first.transaction() as tx:
        claims.append(("first", tx.claim_event("e1", "D1")))
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.3)
    thread.join(10)
    assert claims == [("first", True), ("second", False)]
    first.close(), second.close()


def test_one_process_delivers_and_another_takes_over(url):
    from funnelspec.run.store import OutboxAction

    first, second = _open(url), _open(url)
    with first.transaction() as tx:
        tx.add_actions([OutboxAction("a1", "D1", 1.0, "task", {}, "r", {})])
    assert [a.id for a in first.pending_actions(now=0.0)] == ["a1"]
    assert second.pending_actions(now=0.0) == []
    first.close()
    assert [a.id for a in second.pending_actions(now=0.0)] == ["a1"]
    second.close()


def test_a_deadlock_between_two_processes_rolls_one_back_as_a_conflict(url):
    from funnelspec.run.postgres_store import StoreConflict

    first, second = _open(url), _open(url)
    with first.transaction() as tx:
        tx.save_deal(_deal("A", 0))
        tx.save_deal(_deal("B", 0))
    both_hold, outcomes = threading.Barrier(2, timeout=10), []

    def cross(store, mine, theirs):
        try:
            with store.transaction() as tx:
                tx.load_deal(mine)
                both_hold.wait()
                tx.load_deal(theirs)
                tx.save_deal(_deal(mine, 1))
            outcomes.append("committed")
        except StoreConflict as err:
            outcomes.append("conflict" if "deadlock" in str(err) else str(err))

    threads = [threading.Thread(target=cross, args=(first, "A", "B")),
               threading.Thread(target=cross, args=(second, "B", "A"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["committed", "conflict"]
    assert sorted(d.state["n"] for d in first.deals()) == [0, 1]   # the loser changed nothing
    first.close(), second.close()


def test_a_server_that_is_not_there_is_a_store_error_without_the_password():
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[postgres]')")
    from funnelspec.run.store import StoreError

    with pytest.raises(StoreError, match=r"postgresql://me:\*\*\*@127\.0\.0\.1:1/x: cannot connect") as caught:
        _open("postgresql://me:secret@127.0.0.1:1/x")
    assert "secret" not in str(caught.value)


def test_two_processes_adding_to_a_count_lose_nothing(url):
    stores = [_open(url), _open(url)]

    def add(store):
        for _ in range(50):
            with store.transaction() as tx:
                tx.add_meta("applied", 1)
                tx.get_meta("clock")              # read-to-write values are locked too

    threads = [threading.Thread(target=add, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert stores[0].meta("applied") == "100"
    for store in stores:
        store.close()
