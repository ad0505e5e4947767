#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom echo: answers every echo with the same payload. Run with --reuse-buffer for the
classic bug of a reply built in a buffer shared between requests: each answer carries the
payload of the request before it. --exit-after N: exits with status 7 after its Nth answer,
as a node program that crashes. --ready FILE: creates FILE once it has answered init, for a
test that must act while the run is on."""
import sys

from node import Node

node = Node()
reuse = "--reuse-buffer" in sys.argv
last = [None]
exit_after = int(sys.argv[sys.argv.index("--exit-after") + 1]) if "--exit-after" in sys.argv else 0
answered = [0]


def echo(msg):
    payload = msg["body"]["echo"]
    if reuse:
        payload, last[0] = (last[0] if last[0] is not None else payload), payload
    node.reply(msg, {"type": "echo_ok", "echo": payload})
    answered[0] += 1
    if answered[0] == exit_after:
        node.log("echo: leaving after %d answers" % exit_after)
        sys.exit(7)


def init(msg):
    node._init(msg)
    if "--ready" in sys.argv:
        open(sys.argv[sys.argv.index("--ready") + 1], "w").close()


node.on("init", init)
node.on("echo", echo)
node.run()
