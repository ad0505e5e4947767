#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom unique-ids: the node's id and its own counter, unique across the cluster."""
from node import Node

node = Node()
count = 0


def generate(msg):
    global count
    count += 1
    node.reply(msg, {"type": "generate_ok", "id": f"{node.node_id}-{count}"})


node.on("generate", generate)
node.run()
