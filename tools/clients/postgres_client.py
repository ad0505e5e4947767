#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A PostgreSQL client for `capctl load --client exec` (docs/clients.md), through Debian's
python3-psycopg2. A set is the rows of table capnet_set with its key: add is one INSERT, a read
the SELECT of its elements; each statement is its own transaction (autocommit), so `ok` is a
committed insert, as the server acknowledged it. The table is made by whoever sets the
database up (a standby cannot). Usage: postgres_client.py DSN (libpq's, e.g.
"host=127.0.0.1 user=postgres dbname=postgres")"""

import os
import sys

import psycopg2
import psycopg2.errors

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capnet_client import Client, Fail, Info, serve  # noqa: E402


class PostgresClient(Client):
    def __init__(self, dsn):
        self.dsn = dsn
        self.db = None

    def conn(self):
        if self.db is None:
            try:
                self.db = psycopg2.connect(self.dsn, connect_timeout=2)
            except psycopg2.OperationalError as e:
                raise Fail("not connected: %s" % str(e).strip())
            self.db.autocommit = True
        return self.db

    def run(self, is_read, sql, args):
        db = self.conn()
        try:
            with db.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if is_read else None
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            # The connection failed with the statement sent: a read changed nothing, an
            # insert may have committed.
            self.db = None
            if is_read:
                raise Fail(str(e).strip())
            raise Info(str(e).strip())
        except psycopg2.Error as e:
            # The server refused the statement (read-only standby, no such table): it did
            # not happen, unless the server says the commit's fate is unknown.
            if isinstance(e, psycopg2.errors.QueryCanceled) and not is_read:
                raise Info(str(e).strip())
            raise Fail("%s: %s" % (type(e).__name__, str(e).strip()))

    def read(self, key):
        rows = self.run(True, "SELECT element FROM capnet_set WHERE key = %s", (key,))
        return sorted(r[0] for r in rows)

    def add(self, key, element):
        self.run(False, "INSERT INTO capnet_set (key, element) VALUES (%s, %s)",
                 (key, element))


if __name__ == "__main__":
    serve(PostgresClient(sys.argv[1]))
