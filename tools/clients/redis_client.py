#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A Redis client for `capctl load --client exec` (docs/clients.md), through Debian's
python3-redis: GET/SET, cas as one Lua script (atomic on the server), SADD/SMEMBERS for sets,
RPUSH/LRANGE for lists. It talks to the Redis of its own node (loopback), as capctl's C client
does. Usage: redis_client.py [PORT]"""

import os
import sys

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capnet_client import Client, Fail, Info, serve  # noqa: E402

# 1: set; 0: another value found; -1: the key absent.
CAS = """local v = redis.call('GET', KEYS[1])
if v == false then return -1 end
if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0"""


class RedisClient(Client):
    def __init__(self, port):
        self.port = port
        self.r = None

    def conn(self):
        if self.r is None:
            # Timeouts here are capctl's business: it gives up on the program after its own.
            r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=30,
                            socket_connect_timeout=5, decode_responses=True)
            # Connected and speaking Redis before any operation is sent: a failure here
            # means the operation never left.
            r.ping()
            self.r = r
            self.cas_script = r.register_script(CAS)
        return self.r

    def call(self, fn):
        try:
            r = self.conn()
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as e:
            raise Fail("not connected: %s" % e)
        try:
            return fn(r)
        except redis.ResponseError as e:
            # An error reply (READONLY, NOREPLICAS, ...): the command was refused.
            raise Fail(str(e))
        except (redis.ConnectionError, redis.TimeoutError) as e:
            # Sent, then the connection failed: it may have happened.
            self.r = None
            raise Info(str(e))

    def read(self, key):
        if self.shape == "set":
            return sorted(self.call(lambda r: r.smembers(key)))
        if self.shape == "list":
            return self.call(lambda r: r.lrange(key, 0, -1))
        return self.call(lambda r: r.get(key))

    def write(self, key, value):
        self.call(lambda r: r.set(key, value))

    def cas(self, key, old, new):
        got = self.call(lambda r: self.cas_script(keys=[key], args=[old, new]))
        if got != 1:
            raise Fail("absent" if got == -1 else "another value")

    def add(self, key, element):
        self.call(lambda r: r.sadd(key, element))

    def append(self, key, value):
        self.call(lambda r: r.rpush(key, value))


if __name__ == "__main__":
    serve(RedisClient(int(sys.argv[1]) if len(sys.argv) > 1 else 6379))
