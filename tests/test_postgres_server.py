"""The tests' own PostgreSQL server: a real server, on loopback only, run by a non-root user."""
from __future__ import annotations

import os


def test_the_server_runs_as_a_non_root_user_on_loopback_only(postgres_server):
    import psycopg

    url = postgres_server.new_database()
    with psycopg.connect(url) as connection:
        listen = connection.execute("SHOW listen_addresses").fetchone()[0]
        data_dir = connection.execute("SHOW data_directory").fetchone()[0]
        server_pid = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
        backend_uid = os.stat(f"/proc/{server_pid}").st_uid    # while connected: the backend ends with it
    assert listen == "127.0.0.1"
    assert os.stat(data_dir).st_uid != 0
    assert backend_uid != 0


def test_each_new_database_starts_empty(postgres_server):
    import psycopg

    first, second = postgres_server.new_database(), postgres_server.new_database()
    assert first != second
    with psycopg.connect(first, autocommit=True) as connection:
        connection.execute("CREATE TABLE marker (x int)")
    with psycopg.connect(second) as connection:
        tables = connection.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'marker'").fetchone()[0]
    assert tables == 0
