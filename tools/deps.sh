#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian packages capnet needs to build, test and run its demo, only those missing.
set -euo pipefail

packages=(
	make gcc clang llvm libclang-rt-14-dev pkg-config   # compilers, BPF target, fuzzer runtime
	libbpf-dev bpftool libelf-dev zlib1g-dev            # BPF skeletons and loading
	libnl-3-dev libnl-route-3-dev                       # the lab, through rtnetlink
	libpcap-dev                                         # captrace
	libsodium-dev                                       # the MAC on every capnode datagram
	libhiredis-dev                                      # capctl load --client redis
	libcurl4-openssl-dev                                # capctl load --client etcd
	redis-server redis-sentinel redis-tools             # tests and scenarios against a real Redis
	python3-redis                                       # tools/clients/redis_client.py
	zookeeper python3-kazoo                             # the ZooKeeper scenarios and client
	postgresql python3-psycopg2                         # the PostgreSQL scenarios and client
	libcmocka-dev                                       # unit and root tests
	clang-format bear                                   # make format, compile_commands.json
	iproute2 iptables nftables iputils-ping             # --explain replays, demo, benchmarks
	chromium tshark                                     # captrace: HTML report and dissector tests
	etcd-server etcd-client                             # make bench: capnode against etcd
	libjansson-dev libjson-c-dev                        # make bench: lib/json against them
	python3                                             # the Maelstrom example nodes
	libfaketime ethtool                                 # capnet clock; corruption's --explain
	tcpdump                                             # the course (docs/how-it-works.md)
	scdoc bash-completion                               # man pages; completions
	graphviz                                            # make pictures (docs/pictures/)
	openssh-server                                      # emulated hosts of the multi-host tests (sshd)
	git
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]} (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list finds nothing: refresh it once before installing.
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
