#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A ZooKeeper client for `capctl load --client exec` (docs/clients.md), through Debian's
python3-kazoo, talking to the server of its own node. A register is a znode under /capnet:
write is `set` (`create` the first time), cas is a `get` then a `set` with the version it read
(ZooKeeper refuses it if another write came between), and a read is `sync` then `get`, which
ZooKeeper documents as the way to read the latest committed value; with --no-sync a read is a
plain `get` from the server's own state, which ZooKeeper promises only sequential consistency
for. With --stale-reader N, the clients of node N only read, plainly: their writes and cas
fail unsent, so that they stay connected to a server cut off from its leader and show what it
serves. Usage: zookeeper_client.py [PORT] [--no-sync | --stale-reader N]"""

import os
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, KazooException, NodeExistsError, NoNodeError,
                              ZookeeperError)
from kazoo.handlers.threading import KazooTimeoutError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capnet_client import Client, Fail, Info, serve  # noqa: E402

ROOT = "/capnet/"


class ZooKeeperClient(Client):
    def __init__(self, port, sync, reader_node):
        self.hosts = "127.0.0.1:%d" % port
        self.sync = sync
        self.reader_node = reader_node
        self.only_reads = False
        self.zk = None

    def init(self, node, nodes, process, shape):
        super().init(node, nodes, process, shape)
        if self.reader_node == node:
            self.sync = False
            self.only_reads = True

    def conn(self):
        """A connected client, or Fail: nothing was sent without one."""
        if self.zk is None:
            # Connected within half of capctl's usual timeout (1 s), or not at all.
            zk = KazooClient(hosts=self.hosts, timeout=4.0)
            try:
                zk.start(timeout=0.5)
            except KazooTimeoutError as e:
                zk.close()
                raise Fail("not connected: %s" % e)
            self.zk = zk
        if not self.zk.connected:
            raise Fail("not connected (%s)" % self.zk.state)
        return self.zk

    def call(self, is_read, fn):
        zk = self.conn()
        try:
            return fn(zk)
        except (NoNodeError, NodeExistsError, BadVersionError):
            raise
        except (KazooException, ZookeeperError, KazooTimeoutError) as e:
            # Sent, then the connection was lost or the server erred: a read changed
            # nothing, a write may have happened.
            if is_read:
                raise Fail("%s: %s" % (type(e).__name__, e))
            raise Info("%s: %s" % (type(e).__name__, e))

    def read(self, key):
        path = ROOT + key

        def get(zk):
            if self.sync:
                zk.sync(path)
            try:
                return zk.get(path)[0].decode()
            except NoNodeError:
                return None
        return self.call(True, get)

    def write(self, key, value):
        path = ROOT + key
        if self.only_reads:
            raise Fail("node %d only reads (--stale-reader): not sent" % self.node)

        def put(zk):
            try:
                zk.set(path, value.encode())
            except NoNodeError:
                try:
                    zk.create(path, value.encode(), makepath=True)
                except NodeExistsError:
                    zk.set(path, value.encode())
        self.call(False, put)

    def cas(self, key, old, new):
        path = ROOT + key
        if self.only_reads:
            raise Fail("node %d only reads (--stale-reader): not sent" % self.node)

        def swap(zk):
            try:
                data, stat = zk.get(path)
            except NoNodeError:
                raise Fail("absent")
            if data.decode() != old:
                raise Fail("another value")
            try:
                zk.set(path, new.encode(), version=stat.version)
            except BadVersionError:
                raise Fail("written since it was read (version %d)" % stat.version)
        self.call(False, swap)


if __name__ == "__main__":
    args, reader_node = sys.argv[1:], None
    if "--stale-reader" in args:
        i = args.index("--stale-reader")
        reader_node = int(args[i + 1])
        del args[i:i + 2]
    port = [a for a in args if a != "--no-sync"]
    serve(ZooKeeperClient(int(port[0]) if port else 2181, "--no-sync" not in args, reader_node))
