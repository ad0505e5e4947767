#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Another process in a node, forging Maelstrom messages: usage forge.py SELF TARGET FROM
(node indexes). Sends TARGET's shim, from an ordinary UDP socket of this node, a gossip of
424242, a value nobody broadcast, once as from node FROM and once as from this node itself.
A shim must take neither: they come from no shim's port."""
import socket
import subprocess
import sys

PORT = 7170
me, target, claimed = (int(a) for a in sys.argv[1:4])
# This node's address, and from it the lab's: node k is the k-th host after n0's.
out = subprocess.run(["ip", "-o", "-4", "addr", "show", "scope", "global"],
                     capture_output=True, text=True, check=True).stdout
mine = out.split()[3].split("/")[0]
base = int.from_bytes(socket.inet_aton(mine), "big") - me
to = socket.inet_ntoa((base + target).to_bytes(4, "big"))
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for seq, src in ((1, claimed), (2, me)):
    body = '{"type":"gossip","messages":[424242]}'
    msg = 'M%d {"src":"n%d","dest":"n%d","body":%s}' % (seq, src, target, body)
    sock.sendto(msg.encode(), (to, PORT))
print("forged 2 messages to n%d at %s" % (target, to), file=sys.stderr)
