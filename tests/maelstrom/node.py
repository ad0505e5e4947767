# SPDX-License-Identifier: GPL-2.0-only
"""A small Maelstrom node library for the example programs: reads messages from stdin, calls
handlers by body type, and replies, sends and runs periodic tasks, all from one thread."""
import json
import select
import sys
import time


class Node:
    def __init__(self):
        self.node_id = None
        self.node_ids = []
        self.next_msg_id = 0
        self.handlers = {}
        self.tasks = []  # [period, next_time, function]
        self.callbacks = {}  # msg_id of a request we sent -> what to do with its reply
        self.on("init", self._init)

    def on(self, type_, handler):
        self.handlers[type_] = handler

    def every(self, period, fn):
        self.tasks.append([period, time.monotonic() + period, fn])

    def send(self, dest, body):
        msg = {"src": self.node_id, "dest": dest, "body": body}
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()

    def reply(self, req, body):
        self.next_msg_id += 1
        body = dict(body, msg_id=self.next_msg_id, in_reply_to=req["body"]["msg_id"])
        self.send(req["src"], body)

    def rpc(self, dest, body, callback):
        """Sends a request (to a node or a service such as lin-kv) and calls back with the
        reply's body when it comes."""
        self.next_msg_id += 1
        self.callbacks[self.next_msg_id] = callback
        self.send(dest, dict(body, msg_id=self.next_msg_id))

    def log(self, text):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def _init(self, msg):
        self.node_id = msg["body"]["node_id"]
        self.node_ids = msg["body"]["node_ids"]
        self.reply(msg, {"type": "init_ok"})

    def run(self):
        buf = b""
        stdin = sys.stdin.buffer.raw
        while True:
            now = time.monotonic()
            wait = min([t[1] for t in self.tasks], default=now + 1) - now
            ready, _, _ = select.select([stdin], [], [], max(wait, 0))
            if ready:
                chunk = stdin.read(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        msg = json.loads(line)
                        callback = self.callbacks.pop(msg["body"].get("in_reply_to"), None)
                        if callback:
                            callback(msg["body"])
                            continue
                        handler = self.handlers.get(msg["body"]["type"])
                        if handler:
                            handler(msg)
            now = time.monotonic()
            for task in self.tasks:
                if now >= task[1]:
                    task[1] = now + task[0]
                    task[2]()
