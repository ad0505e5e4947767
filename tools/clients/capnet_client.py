# SPDX-License-Identifier: GPL-2.0-only
"""The exec client protocol of `capctl load --client exec` (docs/clients.md), for clients in
Python: read one JSON request per line on stdin, answer one JSON line on stdout. A client is a
class with one method per operation; this module does the lines, the ids and Jepsen's rule that
an exception nobody classified leaves the outcome unknown (info)."""

import json
import sys
import traceback


class Fail(Exception):
    """The operation surely did not happen (refused, not sent, compare failed)."""


class Info(Exception):
    """The operation may or may not have happened (a timeout, a lost connection)."""


class Client:
    """Override what the database supports. `init` is called once, before any operation, with
    the node number, the lab's size, the process number and the shape of the keys ("register",
    "set" or "list"); connect lazily (in the first operation), so that a node cut off from the
    rest still starts."""

    def init(self, node, nodes, process, shape):
        self.node, self.nodes, self.process, self.shape = node, nodes, process, shape

    def read(self, key):
        raise Fail("read is not supported")

    def write(self, key, value):
        raise Fail("write is not supported")

    def cas(self, key, old, new):
        raise Fail("cas is not supported")

    def add(self, key, element):
        raise Fail("add is not supported")

    def append(self, key, value):
        raise Fail("append is not supported")


def _answer(out, req_id, kind, value=None, error=None, has_value=False):
    msg = {"id": req_id, "type": kind}
    if has_value:
        msg["value"] = value
    if error is not None:
        msg["error"] = error
    out.write(json.dumps(msg) + "\n")
    out.flush()


def serve(client):
    """Answers requests until stdin ends."""
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        req_id, f = req["id"], req["f"]
        try:
            if f == "init":
                client.init(req["node"], req["nodes"], req["process"], req["shape"])
                _answer(out, req_id, "ok")
            elif f == "read":
                _answer(out, req_id, "ok", client.read(req["key"]), has_value=True)
            elif f == "write":
                client.write(req["key"], req["value"])
                _answer(out, req_id, "ok")
            elif f == "cas":
                client.cas(req["key"], req["from"], req["to"])
                _answer(out, req_id, "ok")
            elif f == "add":
                client.add(req["key"], req["element"])
                _answer(out, req_id, "ok")
            elif f == "append":
                client.append(req["key"], req["value"])
                _answer(out, req_id, "ok")
            else:
                _answer(out, req_id, "fail", error="unknown operation " + f)
        except Fail as e:
            _answer(out, req_id, "fail", error=str(e) or type(e).__name__)
        except Info as e:
            _answer(out, req_id, "info", error=str(e) or type(e).__name__)
        except Exception as e:  # noqa: BLE001 - unknown means unknown
            traceback.print_exc(file=sys.stderr)
            _answer(out, req_id, "info", error="%s: %s" % (type(e).__name__, e))
