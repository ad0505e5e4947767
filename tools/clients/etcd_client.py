#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""An etcd client for `capctl load --client exec` (docs/clients.md), through etcd's v3 JSON
gateway with nothing but urllib: range (linearizable, or serializable with --serializable),
put, and cas as a txn comparing the value. It talks to the etcd of its own node (loopback).
Usage: etcd_client.py [PORT] [--serializable]"""

import base64
import json
import os
import socket
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capnet_client import Client, Fail, Info, serve  # noqa: E402

# Errors etcd gives before a request is proposed: it did not happen.
REFUSED = ("etcdserver: no leader", "etcdserver: not capable", "etcdserver: too many requests",
           "etcdserver: leader changed", "etcdserver: request is too large")


def b64(text):
    return base64.b64encode(text.encode()).decode()


class EtcdClient(Client):
    def __init__(self, port, serializable):
        self.base = "http://127.0.0.1:%d" % port
        self.serializable = serializable

    def post(self, path, body, is_read):
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                answer = json.loads(r.read())
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                error = json.loads(text).get("error") or json.loads(text).get("message")
            except ValueError:
                error = None
            msg = error or "HTTP %d" % e.code
            if is_read or msg in REFUSED:
                raise Fail(msg)
            raise Info(msg)
        except urllib.error.URLError as e:
            if isinstance(e.reason, ConnectionRefusedError):
                raise Fail("not sent: %s" % e.reason)
            raise Info("sent, then %s" % e.reason)
        except (socket.timeout, ConnectionError) as e:
            if is_read:
                raise Fail("read: %s" % e)
            raise Info("sent, then %s" % e)
        if "error" in answer:
            if is_read or answer["error"] in REFUSED:
                raise Fail(answer["error"])
            raise Info(answer["error"])
        return answer

    def read(self, key):
        body = {"key": b64(key)}
        if self.serializable:
            body["serializable"] = True
        kvs = self.post("/v3/kv/range", body, True).get("kvs")
        return base64.b64decode(kvs[0]["value"]).decode() if kvs else None

    def write(self, key, value):
        self.post("/v3/kv/put", {"key": b64(key), "value": b64(value)}, False)

    def cas(self, key, old, new):
        answer = self.post("/v3/kv/txn", {
            "compare": [{"key": b64(key), "result": "EQUAL", "target": "VALUE",
                         "value": b64(old)}],
            "success": [{"requestPut": {"key": b64(key), "value": b64(new)}}],
        }, False)
        if not answer.get("succeeded"):
            raise Fail("found another value")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--serializable"]
    serve(EtcdClient(int(args[0]) if args else 2379, "--serializable" in sys.argv))
