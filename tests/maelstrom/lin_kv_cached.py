#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A lin-kv proxy with the classic bug: it remembers the last value it read or wrote for each
key and answers reads from that memory, so it misses what other nodes wrote since."""
from node import Node

node = Node()
cache = {}


def read(msg):
    key = msg["body"]["key"]
    if key in cache:
        node.reply(msg, {"type": "read_ok", "value": cache[key]})
        return

    def answer(reply):
        if reply["type"] == "read_ok":
            cache[key] = reply["value"]
        node.reply(msg, {k: v for k, v in reply.items() if k not in ("msg_id", "in_reply_to")})

    node.rpc("lin-kv", {"type": "read", "key": key}, answer)


def update(msg):
    body = {k: v for k, v in msg["body"].items() if k != "msg_id"}

    def answer(reply):
        if reply["type"] in ("write_ok", "cas_ok"):
            cache[body["key"]] = body["value"] if body["type"] == "write" else body["to"]
        node.reply(msg, {k: v for k, v in reply.items() if k not in ("msg_id", "in_reply_to")})

    node.rpc("lin-kv", body, answer)


node.on("read", read)
node.on("write", update)
node.on("cas", update)
node.run()
