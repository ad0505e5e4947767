#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom kafka on the lin-kv service, as in the Gossip Glomers exercise: each key's log is
one lin-kv value, a list of messages whose indexes are the offsets, and a send appends to it by
compare-and-set, retried until it wins; committed offsets are lin-kv values too, raised by
compare-and-set and never lowered. Every node answers for every key, and a partition between
nodes changes nothing, since lin-kv is reached outside the network. Run with --local for the
classic bug: each node keeps its own logs, so two nodes give one offset to two messages."""
import sys

from node import Node

node = Node()
local = "--local" in sys.argv
logs = {}  # --local: key -> [msg, ...]
commits = {}  # --local: key -> offset


def kv(body, callback):
    node.rpc("lin-kv", body, callback)


def send(msg):
    key, value = msg["body"]["key"], msg["body"]["msg"]
    if local:
        logs.setdefault(key, []).append(value)
        node.reply(msg, {"type": "send_ok", "offset": len(logs[key]) - 1})
        return

    def attempt(current):
        def done(reply):
            if reply["type"] == "cas_ok":
                node.reply(msg, {"type": "send_ok", "offset": len(current)})
            else:
                # Someone appended first: read again and retry.
                kv({"type": "read", "key": "log-" + key}, after_read)

        kv({"type": "cas", "key": "log-" + key, "from": current, "to": current + [value],
            "create_if_not_exists": True}, done)

    def after_read(reply):
        attempt(reply["value"] if reply["type"] == "read_ok" else [])

    kv({"type": "read", "key": "log-" + key}, after_read)


def poll(msg):
    offsets = msg["body"]["offsets"]
    found = {}
    if local:
        for key, start in offsets.items():
            log = logs.get(key, [])
            found[key] = [[i, log[i]] for i in range(start, min(len(log), start + 20))]
        node.reply(msg, {"type": "poll_ok", "msgs": found})
        return
    if not offsets:
        node.reply(msg, {"type": "poll_ok", "msgs": {}})
        return

    def for_key(key, start):
        def got(reply):
            log = reply["value"] if reply["type"] == "read_ok" else []
            pairs = [[i, log[i]] for i in range(start, min(len(log), start + 20))]
            if pairs:
                found[key] = pairs
            done.add(key)
            if len(done) == len(offsets):
                node.reply(msg, {"type": "poll_ok", "msgs": found})
        return got

    done = set()
    for key, start in offsets.items():
        kv({"type": "read", "key": "log-" + key}, for_key(key, start))


def commit_offsets(msg):
    offsets = msg["body"]["offsets"]
    if local:
        for key, offset in offsets.items():
            commits[key] = max(commits.get(key, -1), offset)
        node.reply(msg, {"type": "commit_offsets_ok"})
        return
    left = set(offsets)

    def raise_key(key, offset):
        def after_read(reply):
            current = reply["value"] if reply["type"] == "read_ok" else None
            if current is not None and current >= offset:
                finished(key)
                return
            kv({"type": "cas", "key": "commit-" + key, "from": current, "to": offset,
                "create_if_not_exists": True}, after_cas)

        def after_cas(reply):
            if reply["type"] == "cas_ok":
                finished(key)
            else:
                kv({"type": "read", "key": "commit-" + key}, after_read)

        kv({"type": "read", "key": "commit-" + key}, after_read)

    def finished(key):
        left.discard(key)
        if not left:
            node.reply(msg, {"type": "commit_offsets_ok"})

    if not left:
        node.reply(msg, {"type": "commit_offsets_ok"})
    for key, offset in offsets.items():
        raise_key(key, offset)


def list_committed_offsets(msg):
    keys = msg["body"]["keys"]
    found = {}
    if local:
        found = {k: commits[k] for k in keys if k in commits}
        node.reply(msg, {"type": "list_committed_offsets_ok", "offsets": found})
        return
    if not keys:
        node.reply(msg, {"type": "list_committed_offsets_ok", "offsets": {}})
        return
    done = set()

    def for_key(key):
        def got(reply):
            if reply["type"] == "read_ok":
                found[key] = reply["value"]
            done.add(key)
            if len(done) == len(keys):
                node.reply(msg, {"type": "list_committed_offsets_ok", "offsets": found})
        return got

    for key in keys:
        kv({"type": "read", "key": "commit-" + key}, for_key(key))


node.on("send", send)
node.on("poll", poll)
node.on("commit_offsets", commit_offsets)
node.on("list_committed_offsets", list_committed_offsets)
node.run()
