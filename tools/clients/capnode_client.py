#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A capnode client for `capctl load --client exec` (docs/clients.md) that runs `capctl` once
per operation (get, put, cas, with --json) and maps its answer as capctl load's own client
does. It is no second implementation of capnode's protocol: it exercises the exec protocol and
the checkers against capnode, slowly (a process per operation).
Usage: capnode_client.py CAPCTL LAB NODE [TIMEOUT_MS]"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capnet_client import Client, Fail, Info, serve  # noqa: E402

# The node's answers that say the operation did not happen.
REFUSED = ("UNAVAILABLE", "NOT_LEADER", "CAS_MISMATCH", "INSUFFICIENT_FUNDS", "BAD_REQUEST")


class CapnodeClient(Client):
    def __init__(self, capctl, lab, node, timeout_ms):
        self.cmd = [capctl, "--lab", lab, "-n", node, "--json", "--timeout", timeout_ms]

    def run(self, *args):
        p = subprocess.run(self.cmd + list(args), capture_output=True, text=True)
        try:
            answer = json.loads(p.stdout.splitlines()[-1])
        except (ValueError, IndexError):
            # No answer from the node (exit 4), or capctl could not say: unknown.
            raise Info("capctl exit %d: %s" % (p.returncode, p.stderr.strip()[-300:]))
        status = answer.get("status")
        why = status + (": " + answer["reason"] if answer.get("reason") else "")
        if status == "OK" or (status == "NOT_FOUND" and args[0] == "get"):
            return answer.get("value")
        if status in REFUSED or status == "NOT_FOUND":
            raise Fail(why)
        raise Info(why)

    def read(self, key):
        return self.run("get", key)

    def write(self, key, value):
        self.run("put", key, value)

    def cas(self, key, old, new):
        self.run("cas", key, old, new)


if __name__ == "__main__":
    serve(CapnodeClient(sys.argv[1], sys.argv[2], sys.argv[3],
                        sys.argv[4] if len(sys.argv) > 4 else "1000"))
