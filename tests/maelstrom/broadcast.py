#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom broadcast that survives partitions: every message is gossiped to every other
node until that node acknowledges it, retried every 200 ms; --no-retry sends each once, the
classic bug a partition exposes."""
import sys

from node import Node

node = Node()
retry = "--no-retry" not in sys.argv
messages = set()
unacked = {}  # peer -> set of messages it has not acknowledged


def learn(values):
    new = set(values) - messages
    messages.update(new)
    for peer in node.node_ids:
        if peer != node.node_id and new:
            unacked.setdefault(peer, set()).update(new)
            node.send(peer, {"type": "gossip", "messages": sorted(new)})
            if not retry:
                unacked[peer] -= new


def broadcast(msg):
    learn([msg["body"]["message"]])
    node.reply(msg, {"type": "broadcast_ok"})


def gossip(msg):
    learn(msg["body"]["messages"])
    node.send(msg["src"], {"type": "gossip_ack", "messages": msg["body"]["messages"]})


def gossip_ack(msg):
    unacked.get(msg["src"], set()).difference_update(msg["body"]["messages"])


def resend():
    for peer, pending in unacked.items():
        if pending:
            node.send(peer, {"type": "gossip", "messages": sorted(pending)[:500]})


node.on("broadcast", broadcast)
node.on("gossip", gossip)
node.on("gossip_ack", gossip_ack)
node.on("read", lambda msg: node.reply(msg, {"type": "read_ok", "messages": sorted(messages)}))
node.on("topology", lambda msg: node.reply(msg, {"type": "topology_ok"}))
if retry:
    node.every(0.2, resend)
node.run()
