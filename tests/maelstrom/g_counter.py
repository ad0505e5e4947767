#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom g-counter as a state-based CRDT: each node counts its own adds, gossips its view
of every node's count every 100 ms, and merges by maximum; a read sums the view."""
from node import Node

node = Node()
counts = {}


def add(msg):
    counts[node.node_id] = counts.get(node.node_id, 0) + msg["body"]["delta"]
    node.reply(msg, {"type": "add_ok"})


def merge(msg):
    for n, c in msg["body"]["counts"].items():
        counts[n] = max(counts.get(n, 0), c)


def gossip():
    for peer in node.node_ids:
        if peer != node.node_id:
            node.send(peer, {"type": "merge", "counts": counts})


node.on("add", add)
node.on("merge", merge)
node.on("read", lambda msg: node.reply(msg, {"type": "read_ok", "value": sum(counts.values())}))
node.every(0.1, gossip)
node.run()
