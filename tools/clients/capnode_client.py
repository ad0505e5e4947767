#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A capnode client for `capctl load --client exec` (docs/clients.md), written from
docs/protocol.md alone: CLIENT_REQUEST datagrams over UDP to the node's own capnode (loopback),
sealed with the cluster's key (HMAC-SHA-512-256, libsodium's crypto_auth, from Python's hmac),
retried with the same sequence number every 250 ms until answered (the node's client sessions
make a retry harmless). A second implementation of capnode's client side, beside capctl's C one.
Usage: capnode_client.py [--key-file FILE] [PORT]"""

import hashlib
import hmac
import os
import select
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capnet_client import Client, Fail, Info, serve  # noqa: E402

MAGIC, VERSION = 0xCA9E, 2
CLIENT_REQUEST, CLIENT_REPLY = 64, 65
FLAG_AUTH = 2
OP_GET, OP_PUT, OP_CAS = 1, 2, 3
STATUS = ["OK", "NOT_FOUND", "UNAVAILABLE", "NOT_LEADER", "TIMEOUT", "CAS_MISMATCH",
          "INSUFFICIENT_FUNDS", "BAD_REQUEST", "ERROR"]
# The node's answers that say the operation did not happen.
REFUSED = ("UNAVAILABLE", "NOT_LEADER", "CAS_MISMATCH", "INSUFFICIENT_FUNDS", "BAD_REQUEST")
TAG_LEN = 16


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def put_bytes(b):
    return struct.pack(">H", len(b)) + b


class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return v[0]

    def bytes(self):
        n = self.take(">H")
        v = self.data[self.at:self.at + n]
        if len(v) != n:
            raise ValueError("short")
        self.at += n
        return v


class CapnodeClient(Client):
    def __init__(self, port, key):
        self.addr = ("127.0.0.1", port)
        self.key = key
        self.nonce = int.from_bytes(os.urandom(4), "big") or 1
        self.seq = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def datagram(self, payload):
        flags = FLAG_AUTH if self.key else 0
        msg_id = (self.nonce << 32) | (self.seq & 0xFFFFFFFF)
        header = struct.pack(">HBBHHHHQQI", MAGIC, VERSION, CLIENT_REQUEST, flags, 0, 0,
                             len(payload), 0, msg_id, 0)
        crc = crc32c(header + payload)
        msg = header[:28] + struct.pack(">I", crc) + payload
        if self.key:
            msg += hmac.new(self.key, msg, hashlib.sha512).digest()[:TAG_LEN]
        return msg

    def reply(self, data):
        """The reply's fields if data is the answer to our current request, else None."""
        if len(data) < 32:
            return None
        magic, version, mtype, flags, _, _, plen = struct.unpack_from(">HBBHHHH", data)
        if magic != MAGIC or version != VERSION or mtype != CLIENT_REPLY:
            return None
        body = data[:32 + plen]
        if self.key:
            tag = data[32 + plen:]
            if not flags & FLAG_AUTH or len(tag) != TAG_LEN or not hmac.compare_digest(
                    tag, hmac.new(self.key, body, hashlib.sha512).digest()[:TAG_LEN]):
                return None
        elif flags & FLAG_AUTH:
            return None
        if crc32c(body[:28] + b"\0\0\0\0" + body[32:]) != struct.unpack_from(">I", body, 28)[0]:
            return None
        try:
            r = Reader(body[32:])
            nonce, seq = r.take(">I"), r.take(">Q")
            status = r.take(">B")
            r.take(">H"), r.take(">B"), r.take(">q")
            reason = r.bytes().decode(errors="replace")
            value = r.bytes()
        except (struct.error, ValueError):
            return None
        if nonce != self.nonce or seq != self.seq:
            return None  # a late answer to an earlier request
        return STATUS[status] if status < len(STATUS) else "ERROR", reason, value

    def call(self, op, key, expected=b"", value=b""):
        self.seq += 1
        payload = struct.pack(">BBIQ", op, 0, self.nonce, self.seq) + put_bytes(key.encode())
        if op != OP_GET:
            payload += put_bytes(expected) + put_bytes(value)
        msg = self.datagram(payload)
        # No deadline of our own: capctl's timeout ends this program when it is up.
        while True:
            self.sock.sendto(msg, self.addr)
            while select.select([self.sock], [], [], 0.25)[0]:
                try:
                    data = self.sock.recv(2048)
                except ConnectionRefusedError:
                    continue  # no capnode listening (yet): keep asking
                got = self.reply(data)
                if got:
                    return got

    def outcome(self, op, got):
        status, reason, value = got
        if status == "OK" or (status == "NOT_FOUND" and op == OP_GET):
            return value.decode() if status == "OK" else None
        why = status + (": " + reason if reason else "")
        if status in REFUSED or status == "NOT_FOUND":
            raise Fail(why)
        raise Info(why)

    def read(self, key):
        return self.outcome(OP_GET, self.call(OP_GET, key))

    def write(self, key, value):
        self.outcome(OP_PUT, self.call(OP_PUT, key, b"", value.encode()))

    def cas(self, key, old, new):
        self.outcome(OP_CAS, self.call(OP_CAS, key, old.encode(), new.encode()))


if __name__ == "__main__":
    args, key = sys.argv[1:], None
    if "--key-file" in args:
        i = args.index("--key-file")
        with open(args[i + 1]) as f:
            key = bytes.fromhex(f.read().strip())
        del args[i:i + 2]
    serve(CapnodeClient(int(args[0]) if args else 7070, key))
