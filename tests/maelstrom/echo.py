#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom echo: answers every echo with the same payload. Run with --reuse-buffer for the
classic bug of a reply built in a buffer shared between requests: each answer carries the
payload of the request before it."""
import sys

from node import Node

node = Node()
reuse = "--reuse-buffer" in sys.argv
last = [None]


def echo(msg):
    payload = msg["body"]["echo"]
    if reuse:
        payload, last[0] = (last[0] if last[0] is not None else payload), payload
    node.reply(msg, {"type": "echo_ok", "echo": payload})


node.on("echo", echo)
node.run()
