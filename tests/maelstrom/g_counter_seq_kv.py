#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom g-counter on the seq-kv service, as in the Gossip Glomers exercise: each node keeps
its own count under its own key (so a cas conflicts only with itself) and a read sums every
node's key. seq-kv may answer a read with an old state; writing a fresh key first moves this
node to the newest state, so the reads after it cannot be older than the adds acknowledged
before. Run with --stale-reads to leave that write out: the classic bug."""
import sys

from node import Node

node = Node()
stale = "--stale-reads" in sys.argv
mine = {"count": 0, "pending": []}  # adds waiting for the cas in flight
syncs = [0]


def add(msg):
    mine["pending"].append(msg)
    if len(mine["pending"]) == 1:
        flush()


def flush():
    if not mine["pending"]:
        return
    batch = list(mine["pending"])
    total = mine["count"] + sum(m["body"]["delta"] for m in batch)

    def done(reply):
        if reply["type"] == "cas_ok":
            mine["count"] = total
            for m in batch:
                node.reply(m, {"type": "add_ok"})
            del mine["pending"][: len(batch)]
            flush()
            return

        # Restarted after a kill, this node forgot its count: take it back from seq-kv (a cas
        # sees the newest state, so the next try holds once the read caught up).
        def learned(r):
            if r["type"] == "read_ok":
                mine["count"] = r["value"]
            flush()

        node.rpc("seq-kv", {"type": "read", "key": node.node_id}, learned)

    node.rpc("seq-kv", {"type": "cas", "key": node.node_id, "from": mine["count"], "to": total,
                        "create_if_not_exists": True}, done)


def read(msg):
    values = {}

    def collect(peer):
        def got(reply):
            values[peer] = reply.get("value", 0) if reply["type"] == "read_ok" else 0
            if len(values) == len(node.node_ids):
                node.reply(msg, {"type": "read_ok", "value": sum(values.values())})
        return got

    def read_all(_=None):
        for peer in node.node_ids:
            node.rpc("seq-kv", {"type": "read", "key": peer}, collect(peer))

    if stale:
        read_all()
    else:
        syncs[0] += 1
        node.rpc("seq-kv", {"type": "write", "key": "sync-" + node.node_id,
                            "value": syncs[0]}, read_all)


node.on("add", add)
node.on("read", read)
node.run()
