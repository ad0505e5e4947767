#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A client program for capctl load --client exec that keeps a register in its own memory and
misbehaves as its argument says, for tests/net/test_exec_client.c: each way a program can break
the protocol must cost info outcomes and one clear line, never a hang or a crash of capctl."""

import json
import os
import sys
import time

mode = sys.argv[1]
if mode == "exit-at-once":
    sys.stderr.write("exit-at-once: giving up before init\n")
    sys.exit(3)

register = {}
served = 0
for line in sys.stdin:
    req = json.loads(line)
    if req["f"] == "init":
        if mode == "silent-init":
            time.sleep(3600)
        print(json.dumps({"id": 0, "type": "ok"}), flush=True)
        continue
    served += 1
    sys.stderr.write("%s: request %d: %s\n" % (mode, served, req["f"]))
    sys.stderr.flush()
    if mode == "garbage":
        print("this is not JSON", flush=True)
    elif mode == "no-id":
        print(json.dumps({"type": "ok"}), flush=True)
    elif mode == "wrong-id":
        print(json.dumps({"id": req["id"] + 1000, "type": "ok"}), flush=True)
    elif mode == "huge-line":
        sys.stdout.write("x" * (10 << 20) + "\n")
        sys.stdout.flush()
    elif mode == "silent":
        time.sleep(3600)
    elif mode == "strays" and os.fork() == 0:
        # A child that leaves the program's process group and would outlive it: its pid is
        # left where the test looks for survivors.
        os.setsid()
        with open(os.path.join(os.environ["STRAY_DIR"], str(os.getpid())), "w"):
            pass
        time.sleep(3600)
        os._exit(0)
    elif mode == "dies" and served == 3:
        sys.stderr.write("dies: crashing on purpose\n")
        os._exit(4)
    else:
        # A well-behaved register, alone: every history it gives is linearizable.
        k, f = req["key"], req["f"]
        ans = {"id": req["id"], "type": "ok"}
        if f == "read":
            ans["value"] = register.get(k)
        elif f == "write":
            register[k] = req["value"]
        elif f == "cas" and register.get(k) == req["from"]:
            register[k] = req["to"]
        elif f == "cas":
            ans = {"id": req["id"], "type": "fail", "error": "another value"}
        print(json.dumps(ans), flush=True)
