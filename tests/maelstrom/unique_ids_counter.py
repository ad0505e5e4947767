#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The classic bug: ids from a counter alone. Unique on one node, repeated across nodes."""
from node import Node

node = Node()
count = 0


def generate(msg):
    global count
    count += 1
    node.reply(msg, {"type": "generate_ok", "id": count})


node.on("generate", generate)
node.run()
