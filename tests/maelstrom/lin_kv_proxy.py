#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Maelstrom lin-kv by proxy: every read, write and cas goes to the lin-kv service, and its
answer (an error included) goes back to the client. Linearizable because the service is."""
from node import Node

node = Node()


def forward(msg):
    body = {k: v for k, v in msg["body"].items() if k != "msg_id"}

    def answer(reply):
        node.reply(msg, {k: v for k, v in reply.items() if k not in ("msg_id", "in_reply_to")})

    node.rpc("lin-kv", body, answer)


for kind in ("read", "write", "cas"):
    node.on(kind, forward)
node.run()
