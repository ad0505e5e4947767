#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom broadcast that survives partitions: every message is gossiped to every other
node until that node acknowledges it, retried every 200 ms; --no-retry sends each once, the
classic bug a partition exposes. --forge: n1 starts forge.py beside it, which sends n2 a gossip
of a value nobody broadcast, as from n0 (a harness that takes it reports the run invalid).
--gossip-after S: a node with a known latency, which holds every value it learns for S seconds
before gossiping it, so that a message is stable about S after its broadcast."""
import os
import subprocess
import sys
import time

from node import Node

node = Node()
retry = "--no-retry" not in sys.argv
messages = set()
unacked = {}  # peer -> set of messages it has not acknowledged
hold = float(sys.argv[sys.argv.index("--gossip-after") + 1]) if "--gossip-after" in sys.argv else 0
held = []  # [due time, values] learned, not gossiped yet


def learn(values):
    new = set(values) - messages
    messages.update(new)
    if hold and new:
        held.append([time.monotonic() + hold, new])
    else:
        gossip_new(new)


def release():
    while held and held[0][0] <= time.monotonic():
        gossip_new(held.pop(0)[1])


def gossip_new(new):
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
if hold:
    node.every(0.01, release)
node.run()
