#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom txn-list-append and txn-rw-register on the lin-kv service: the whole database is one
lin-kv value, a map from keys to values (or lists), and a transaction reads it, applies every
step to a copy, and installs the copy by compare-and-set, starting over when another
transaction won. Strict serializable, because lin-kv is linearizable and a transaction takes
effect at its compare-and-set. Run with --local for the classic bug: each node applies
transactions to its own copy at once and tells the others afterwards, without any order, so
nodes disagree about what was written first and read what others have long overwritten."""
import sys

from node import Node

node = Node()
local = "--local" in sys.argv
state = {}  # --local: this node's copy


def apply(db, txn):
    """Runs txn against db (a dict, changed in place); the txn with its reads filled in."""
    done = []
    for f, k, v in txn:
        key = str(k)
        if f == "r":
            current = db.get(key)
            done.append([f, k, list(current) if isinstance(current, list) else current])
        elif f == "append":
            db[key] = list(db.get(key) or []) + [v]
            done.append([f, k, v])
        else:
            db[key] = v
            done.append([f, k, v])
    return done


def txn(msg):
    steps = msg["body"]["txn"]
    if local:
        done = apply(state, steps)
        writes = [s for s in steps if s[0] != "r"]
        if writes:
            for peer in node.node_ids:
                if peer != node.node_id:
                    node.send(peer, {"type": "replicate", "writes": writes})
        node.reply(msg, {"type": "txn_ok", "txn": done})
        return

    def attempt(reply):
        current = reply["value"] if reply["type"] == "read_ok" else None
        db = dict(current or {})
        done = apply(db, steps)
        if not any(s[0] != "r" for s in steps):
            node.reply(msg, {"type": "txn_ok", "txn": done})
            return

        def installed(r):
            if r["type"] == "cas_ok":
                node.reply(msg, {"type": "txn_ok", "txn": done})
            else:
                node.rpc("lin-kv", {"type": "read", "key": "db"}, attempt)

        node.rpc("lin-kv", {"type": "cas", "key": "db", "from": current, "to": db,
                            "create_if_not_exists": True}, installed)

    node.rpc("lin-kv", {"type": "read", "key": "db"}, attempt)


def replicate(msg):
    apply(state, msg["body"]["writes"])


node.on("txn", txn)
node.on("replicate", replicate)
node.run()
