#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A node that sends a message to a destination the test does not have: usage misdirect.py
DEST. It answers init, then sends {"type":"x"} to DEST once and waits; the harness must stop
the run with the line."""
import sys

from node import Node

node = Node()


def init(msg):
    node._init(msg)
    node.send(sys.argv[1], {"type": "x"})


node.on("init", init)
node.run()
