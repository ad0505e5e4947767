#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom broadcast that survives partitions: every message is gossiped to every other
node until that node acknowledges it, retried every 200 ms; --no-retry sends each once, the
classic bug a partition exposes. --forge: n1 starts forge.py beside it, which sends n2 a gossip
of a value nobody broadcast, as from n0 (a harness that takes it reports the run invalid)."""
import os
import subprocess
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


def init(msg):
    node._init(msg)
    if "--forge" in sys.argv and node.node_id == "n1":
        subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "forge.py"),
                          "1", "2", "0"])


node.on("init", init)
node.on("broadcast", broadcast)
node.on("gossip", gossip)
node.on("gossip_ack", gossip_ack)
node.on("read", lambda msg: node.reply(msg, {"type": "read_ok", "messages": sorted(messages)}))
node.on("topology", lambda msg: node.reply(msg, {"type": "topology_ok"}))
if retry:
    node.every(0.2, resend)
node.run()
