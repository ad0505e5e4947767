-- SPDX-License-Identifier: GPL-2.0-only
-- Wireshark/tshark dissector for the capnet protocol (docs/protocol.md), version 2: the 32-byte
-- header, its CRC32C, the client request, reply and status payloads, and the 16-byte MAC that
-- ends an authenticated datagram (shown, not checked: that needs the cluster's key). UDP port 7070, and a
-- heuristic on any UDP datagram that starts with the magic and version.
--   tshark -X lua_script:tools/wireshark/capnet.lua -r n1.pcap -Y capnet
-- or copy it into ~/.local/lib/wireshark/plugins/.

local capnet = Proto("capnet", "capnet replica protocol")

local MAGIC = 0xCA9E
local VERSION = 2
local HDR_LEN = 32
local TAG_LEN = 16
local FLAG_AUTH = 0x0002
local MAX_DGRAM = 1416

local types = {
	[1] = "PREVOTE", [2] = "PREVOTE_RESP", [3] = "VOTE", [4] = "VOTE_RESP", [5] = "APPEND",
	[6] = "APPEND_RESP", [7] = "SNAPSHOT", [8] = "SNAPSHOT_RESP", [9] = "HEARTBEAT",
	[10] = "HEARTBEAT_RESP", [11] = "READ_INDEX", [12] = "READ_INDEX_RESP",
	[13] = "TIMEOUT_NOW",
	[32] = "REPLICA_PUT", [33] = "REPLICA_PUT_ACK", [34] = "REPLICA_GET",
	[35] = "REPLICA_GET_RESP", [36] = "HINT_DELIVER", [37] = "HINT_ACK", [38] = "DIGEST",
	[39] = "DIGEST_RESP", [40] = "REPAIR", [41] = "BANK_READ", [42] = "BANK_READ_RESP",
	[64] = "CLIENT_REQUEST", [65] = "CLIENT_REPLY",
	[96] = "STATUS", [97] = "STATUS_REPLY", [98] = "PING", [99] = "PONG",
}
local ops = { [1] = "get", [2] = "put", [3] = "cas", [4] = "open", [5] = "transfer",
	[6] = "balance", [7] = "status" }
local consistencies = { [0] = "default", [1] = "one", [2] = "quorum", [3] = "all" }
local statuses = { [0] = "OK", [1] = "NOT_FOUND", [2] = "UNAVAILABLE", [3] = "NOT_LEADER",
	[4] = "TIMEOUT", [5] = "CAS_MISMATCH", [6] = "INSUFFICIENT_FUNDS", [7] = "BAD_REQUEST",
	[8] = "ERROR" }
local modes = { [1] = "cp", [2] = "ap" }
local roles = { [0] = "-", [1] = "follower", [2] = "precandidate", [3] = "candidate",
	[4] = "leader" }

local f = capnet.fields
f.magic = ProtoField.uint16("capnet.magic", "Magic", base.HEX)
f.version = ProtoField.uint8("capnet.version", "Version")
f.type = ProtoField.uint8("capnet.type", "Type", base.DEC, types)
f.flags = ProtoField.uint16("capnet.flags", "Flags", base.HEX)
f.reply = ProtoField.bool("capnet.flags.reply", "Reply", 16, nil, 0x0001)
f.auth = ProtoField.bool("capnet.flags.auth", "Authenticated (MAC follows the payload)", 16, nil,
	FLAG_AUTH)
f.mac = ProtoField.bytes("capnet.mac", "MAC (HMAC-SHA-512-256, first 16 bytes)")
f.from = ProtoField.uint16("capnet.from", "From node")
f.to = ProtoField.uint16("capnet.to", "To node")
f.payload_len = ProtoField.uint16("capnet.payload_len", "Payload length")
f.term = ProtoField.uint64("capnet.term", "Term/epoch")
f.msg_id = ProtoField.uint64("capnet.msg_id", "Message id")
f.crc = ProtoField.uint32("capnet.crc", "CRC32C", base.HEX)
f.crc_ok = ProtoField.bool("capnet.crc_ok", "CRC32C valid")
f.payload = ProtoField.bytes("capnet.payload", "Payload")
f.op = ProtoField.uint8("capnet.op", "Operation", base.DEC, ops)
f.consistency = ProtoField.uint8("capnet.consistency", "Consistency", base.DEC, consistencies)
f.nonce = ProtoField.uint32("capnet.client_nonce", "Client nonce", base.HEX)
f.seq = ProtoField.uint64("capnet.seq", "Client sequence")
f.key = ProtoField.string("capnet.key", "Key")
f.value = ProtoField.bytes("capnet.value", "Value")
f.expected = ProtoField.bytes("capnet.expected", "Expected")
f.from_account = ProtoField.string("capnet.from_account", "From account")
f.to_account = ProtoField.string("capnet.to_account", "To account")
f.amount = ProtoField.int64("capnet.amount", "Amount")
f.status = ProtoField.uint8("capnet.status", "Status", base.DEC, statuses)
f.leader_hint = ProtoField.uint16("capnet.leader_hint", "Leader hint")
f.replicas = ProtoField.uint8("capnet.replicas_answered", "Replicas answered")
f.reason = ProtoField.string("capnet.reason", "Reason")
f.nsiblings = ProtoField.uint8("capnet.nsiblings", "Siblings")
f.sibling = ProtoField.bytes("capnet.sibling", "Sibling")
f.context = ProtoField.string("capnet.context", "Causal context")
f.nrx = ProtoField.uint8("capnet.nrx", "Receive counters")
f.rx = ProtoField.uint64("capnet.rx", "Datagrams")
f.notes = ProtoField.string("capnet.notes", "Notes")
f.layout = ProtoField.uint8("capnet.layout", "Status layout")
f.node_id = ProtoField.uint16("capnet.node_id", "Node id")
f.mode = ProtoField.uint8("capnet.mode", "Mode", base.DEC, modes)
f.role = ProtoField.uint8("capnet.role", "Role", base.DEC, roles)
f.leader = ProtoField.uint16("capnet.leader", "Leader")
f.commit_index = ProtoField.uint64("capnet.commit_index", "Commit index")
f.applied_index = ProtoField.uint64("capnet.applied_index", "Applied index")
f.last_log_index = ProtoField.uint64("capnet.last_log_index", "Last log index")
f.cluster_size = ProtoField.uint16("capnet.cluster_size", "Cluster size")
f.reachable = ProtoField.bytes("capnet.reachable", "Reachable bitmap")

local ef_crc = ProtoExpert.new("capnet.crc_bad", "CRC32C mismatch", expert.group.CHECKSUM,
	expert.severity.ERROR)
local ef_len = ProtoExpert.new("capnet.len_bad", "Datagram length does not match payload_len",
	expert.group.MALFORMED, expert.severity.ERROR)
local ef_payload = ProtoExpert.new("capnet.payload_bad", "Payload does not parse",
	expert.group.MALFORMED, expert.severity.WARN)
capnet.experts = { ef_crc, ef_len, ef_payload }

-- Wireshark 4 embeds Lua 5.2 (bit32); newer builds have native operators.
local band, bxor, rshift
if bit32 then
	band, bxor, rshift = bit32.band, bit32.bxor, bit32.rshift
else
	band = load("return function(a, b) return a & b end")()
	bxor = load("return function(a, b) return a ~ b end")()
	rshift = load("return function(a, n) return a >> n end")()
end

-- CRC32C (Castagnoli, reflected 0x82F63B78), table-driven.
local crc_table = {}
for i = 0, 255 do
	local c = i
	for _ = 1, 8 do
		if band(c, 1) ~= 0 then
			c = bxor(rshift(c, 1), 0x82F63B78)
		else
			c = rshift(c, 1)
		end
	end
	crc_table[i] = c
end

local function crc32c(tvb, len)
	local c = 0xFFFFFFFF
	for i = 0, len - 1 do
		local b = tvb(i, 1):uint()
		if i >= 28 and i < 32 then
			b = 0 -- the CRC field counts as zero
		end
		c = bxor(rshift(c, 8), crc_table[band(bxor(c, b), 0xFF)])
	end
	return bxor(c, 0xFFFFFFFF)
end

-- A bounded reader over the payload: every get checks room, and a failure sticks.
local function reader(tvb, off, limit)
	return { tvb = tvb, off = off, limit = limit, ok = true }
end

local function take(r, n)
	if not r.ok or r.off + n > r.limit then
		r.ok = false
		return nil
	end
	local range = r.tvb(r.off, n)
	r.off = r.off + n
	return range
end

local function add_fixed(tree, r, field, n)
	local range = take(r, n)
	if range then
		tree:add(field, range)
	end
	return range
end

-- A byte string: u16 length, then that many bytes.
local function add_bytes(tree, r, field, as_string)
	local lr = take(r, 2)
	if not lr then
		return nil
	end
	local n = lr:uint()
	if n == 0 then
		return ""
	end
	local range = take(r, n)
	if not range then
		return nil
	end
	tree:add(field, range)
	if as_string then
		return range:string()
	end
	return tostring(range:bytes())
end

local function dissect_request(tree, r)
	local op = add_fixed(tree, r, f.op, 1)
	add_fixed(tree, r, f.consistency, 1)
	add_fixed(tree, r, f.nonce, 4)
	add_fixed(tree, r, f.seq, 8)
	if not op then
		return ""
	end
	local o = op:uint()
	local key = ""
	if o == 1 or o == 6 then
		key = add_bytes(tree, r, f.key, true) or ""
	elseif o == 2 then
		key = add_bytes(tree, r, f.key, true) or ""
		add_bytes(tree, r, f.expected, false)
		add_bytes(tree, r, f.value, false)
	elseif o == 3 then
		key = add_bytes(tree, r, f.key, true) or ""
		add_bytes(tree, r, f.expected, false)
		add_bytes(tree, r, f.value, false)
	elseif o == 4 then
		key = add_bytes(tree, r, f.key, true) or ""
		add_fixed(tree, r, f.amount, 8)
	elseif o == 5 then
		key = (add_bytes(tree, r, f.from_account, true) or "") .. " -> " ..
			(add_bytes(tree, r, f.to_account, true) or "")
		add_fixed(tree, r, f.amount, 8)
	end
	return string.format(": %s %q", ops[o] or ("op " .. o), key)
end

local function dissect_reply(tree, r)
	add_fixed(tree, r, f.nonce, 4)
	add_fixed(tree, r, f.seq, 8)
	local st = add_fixed(tree, r, f.status, 1)
	add_fixed(tree, r, f.leader_hint, 2)
	add_fixed(tree, r, f.replicas, 1)
	add_fixed(tree, r, f.amount, 8)
	local reason = add_bytes(tree, r, f.reason, true)
	add_bytes(tree, r, f.value, false)
	local ns = add_fixed(tree, r, f.nsiblings, 1)
	if ns then
		for _ = 1, ns:uint() do
			add_bytes(tree, r, f.sibling, false)
		end
	end
	add_bytes(tree, r, f.context, true)
	if not st then
		return ""
	end
	local s = statuses[st:uint()] or ("status " .. st:uint())
	if reason and reason ~= "" then
		return string.format(": %s %q", s, reason)
	end
	return ": " .. s
end

local function dissect_status(tree, r)
	add_fixed(tree, r, f.layout, 1)
	add_fixed(tree, r, f.node_id, 2)
	add_fixed(tree, r, f.mode, 1)
	add_fixed(tree, r, f.role, 1)
	add_fixed(tree, r, f.term, 8)
	add_fixed(tree, r, f.leader, 2)
	add_fixed(tree, r, f.commit_index, 8)
	add_fixed(tree, r, f.applied_index, 8)
	add_fixed(tree, r, f.last_log_index, 8)
	add_fixed(tree, r, f.cluster_size, 2)
	add_bytes(tree, r, f.reachable, false)
	local nrx = add_fixed(tree, r, f.nrx, 1)
	if nrx then
		for _ = 1, nrx:uint() do
			add_fixed(tree, r, f.rx, 8)
		end
	end
	local notes = add_bytes(tree, r, f.notes, true)
	if notes and notes ~= "" then
		return string.format(": %q", notes)
	end
	return ""
end

local function looks_like_capnet(tvb)
	return tvb:len() >= HDR_LEN and tvb(0, 2):uint() == MAGIC and tvb(2, 1):uint() == VERSION
end

function capnet.dissector(tvb, pinfo, tree)
	if not looks_like_capnet(tvb) then
		return 0
	end
	local len = tvb:len()
	local typ = tvb(3, 1):uint()
	local from = tvb(6, 2):uint()
	local to = tvb(8, 2):uint()
	local plen = tvb(10, 2):uint()
	local authed = band(tvb(4, 2):uint(), FLAG_AUTH) ~= 0
	local name = types[typ] or ("type " .. typ)

	pinfo.cols.protocol = "CAPNET"
	local t = tree:add(capnet, tvb(0, len), "capnet " .. name)
	t:add(f.magic, tvb(0, 2))
	t:add(f.version, tvb(2, 1))
	t:add(f.type, tvb(3, 1))
	local ft = t:add(f.flags, tvb(4, 2))
	ft:add(f.reply, tvb(4, 2))
	ft:add(f.auth, tvb(4, 2))
	t:add(f.from, tvb(6, 2))
	t:add(f.to, tvb(8, 2))
	local pl = t:add(f.payload_len, tvb(10, 2))
	t:add(f.term, tvb(12, 8))
	t:add(f.msg_id, tvb(20, 8))
	local crc_item = t:add(f.crc, tvb(28, 4))

	local info = string.format("%s from %d to %d id %s", name, from, to,
		tostring(tvb(20, 8):uint64()))
	-- The MAC is not payload and not under the CRC.
	local tag = (authed and len >= HDR_LEN + TAG_LEN) and TAG_LEN or 0
	if authed and tag == 0 then
		pl:add_proto_expert_info(ef_len, "flagged authenticated, but too short for a MAC")
		info = info .. " [bad length]"
	elseif HDR_LEN + plen + tag ~= len or len > MAX_DGRAM then
		pl:add_proto_expert_info(ef_len, string.format(
			"payload_len %d, but the datagram has %d payload bytes", plen,
			len - HDR_LEN - tag))
		info = info .. " [bad length]"
	else
		local good = crc32c(tvb, len - tag) == tvb(28, 4):uint()
		t:add(f.crc_ok, good)
		if not good then
			crc_item:add_proto_expert_info(ef_crc)
			info = info .. " [bad CRC]"
		end
	end
	if tag > 0 then
		t:add(f.mac, tvb(len - tag, tag))
		info = info .. " [MAC]"
	end
	if len - tag > HDR_LEN then
		local body = math.min(plen, len - tag - HDR_LEN)
		local pt = t:add(f.payload, tvb(HDR_LEN, len - tag - HDR_LEN))
		local r = reader(tvb, HDR_LEN, HDR_LEN + body)
		local extra = ""
		if typ == 64 then
			extra = dissect_request(pt, r)
		elseif typ == 65 then
			extra = dissect_reply(pt, r)
		elseif typ == 97 then
			extra = dissect_status(pt, r)
		end
		if not r.ok then
			pt:add_proto_expert_info(ef_payload)
		end
		info = info .. extra
	end
	pinfo.cols.info = info
	return len
end

local function heuristic(tvb, pinfo, tree)
	if not looks_like_capnet(tvb) then
		return false
	end
	capnet.dissector(tvb, pinfo, tree)
	return true
end

DissectorTable.get("udp.port"):add(7070, capnet)
capnet:register_heuristic("udp", heuristic)
