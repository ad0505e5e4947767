// SPDX-License-Identifier: GPL-2.0-only
/* capnode: one replica of a capnet cluster, CP (Raft) or AP (Dynamo style), over UDP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/number.h"
#include "lib/report.h"
#include "node/key_file.h"
#include "node/node.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: capnode --id I --cluster 1=ADDR,2=ADDR,... --mode cp|ap [--port P]\n"
		"               [--data DIR] [--sync fsync|none] [--tick-ms MS]\n"
		"               [--request-timeout-ms MS] [--snapshot-every N]\n"
		"               [--unsafe-local-reads] [--replicas N] [--siblings]\n"
		"               [--anti-entropy-ms MS] [--key-file F]\n\n"
		"  --key-file F         the cluster's key (capnet start makes one): every datagram\n"
		"                       is sent with a MAC made with it, and one without is refused.\n"
		"                       Without it nothing is authenticated\n"
		"  --sync none          acknowledge before fsync (benchmarks only: a crash loses\n"
		"                       acknowledged writes)\n"
		"  --unsafe-local-reads answer reads from local state without ReadIndex: fast and\n"
		"                       not linearizable (a teaching switch the checker catches)\n"
		"  --replicas N         AP: replicas per key on the consistent-hash ring (default:\n"
		"                       every node)\n"
		"  --siblings           AP: keep concurrent values as siblings instead of\n"
		"                       last-writer-wins; a put with a read's context resolves them\n"
		"  --anti-entropy-ms MS AP: between digest exchanges with a peer (default 500, 0 off)\n");
}

/* The options followed by a value; any other word starting the pair is unknown. */
static bool takes_value(const char *opt)
{
	static const char *const valued[] = { "--id",
					      "--cluster",
					      "--mode",
					      "--port",
					      "--data",
					      "--sync",
					      "--tick-ms",
					      "--request-timeout-ms",
					      "--replicas",
					      "--anti-entropy-ms",
					      "--snapshot-every",
					      "--key-file" };

	for (size_t i = 0; i < sizeof(valued) / sizeof(valued[0]); i++)
		if (!strcmp(opt, valued[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static struct node_config cfg = { .port = 7070,
					  .sync = true,
					  .tick_ms = 10,
					  .request_timeout_ms = 2000,
					  .snapshot_every = 10000,
					  .anti_entropy_ms = 500,
					  .data_dir = "." };
	const char *cluster = NULL;
	struct timespec ts;
	char err[256];
	unsigned long long v;
	int i, rc;

	report_set_program("capnode");
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(opt, "--unsafe-local-reads")) {
			cfg.unsafe_local_reads = true;
			continue;
		}
		if (!strcmp(opt, "--siblings")) {
			cfg.siblings = true;
			continue;
		}
		if (!takes_value(opt)) {
			return report_usage("unknown option %s (capnode --help)", opt);
		}
		if (!val) {
			return report_usage("%s needs a value (capnode --help)", opt);
		}
		i++;
		if (!strcmp(opt, "--id")) {
			if (number_parse_whole(opt, val, 1, PROTO_MAX_NODE, &v))
				return report_usage("%s", error_reason(-EINVAL));
			cfg.id = v;
		} else if (!strcmp(opt, "--cluster")) {
			cluster = val;
		} else if (!strcmp(opt, "--mode")) {
			if (!strcmp(val, "cp"))
				cfg.mode = NODE_MODE_CP;
			else if (!strcmp(val, "ap"))
				cfg.mode = NODE_MODE_AP;
			else {
				return report_usage("--mode \"%s\": cp or ap", val);
			}
		} else if (!strcmp(opt, "--port")) {
			if (number_parse_whole(opt, val, 1, 65535, &v))
				return report_usage("%s", error_reason(-EINVAL));
			cfg.port = v;
		} else if (!strcmp(opt, "--data")) {
			cfg.data_dir = val;
		} else if (!strcmp(opt, "--sync")) {
			if (!strcmp(val, "none"))
				cfg.sync = false;
			else if (!strcmp(val, "fsync"))
				cfg.sync = true;
			else {
				return report_usage("--sync \"%s\": fsync or none", val);
			}
		} else if (!strcmp(opt, "--tick-ms")) {
			if (number_parse_whole(opt, val, 1, 1000, &v))
				return report_usage("%s", error_reason(-EINVAL));
			cfg.tick_ms = v;
		} else if (!strcmp(opt, "--request-timeout-ms")) {
			if (number_parse_whole(opt, val, 10, 600000, &v))
				return report_usage("%s", error_reason(-EINVAL));
			cfg.request_timeout_ms = v;
		} else if (!strcmp(opt, "--replicas")) {
			if (number_parse_whole(opt, val, 1, PROTO_MAX_NODE, &v))
				return report_usage("%s", error_reason(-EINVAL));
			cfg.replicas = v;
		} else if (!strcmp(opt, "--anti-entropy-ms")) {
			if (number_parse_whole(opt, val, 0, 3600000, &v))
				return report_usage("%s", error_reason(-EINVAL));
			cfg.anti_entropy_ms = v;
		} else if (!strcmp(opt, "--key-file")) {
			if (key_file_read(val, &cfg.key)) {
				error_flush();
				return 2;
			}
			cfg.auth = true;
		} else if (!strcmp(opt, "--snapshot-every")) {
			if (number_parse_whole(opt, val, 0, 100000000, &v))
				return report_usage("%s", error_reason(-EINVAL));
			cfg.snapshot_every = v;
		}
	}
	if (!cfg.id || !cluster || !cfg.mode) {
		return report_usage("--id, --cluster and --mode are required (capnode --help)");
	}
	/* The cluster's default port is ours: parse it after --port. */
	if (node_parse_cluster(cluster, &cfg, err, sizeof(err))) {
		return report_usage("--cluster: %s", err);
	}
	for (i = 0; i < cfg.npeers && cfg.peers[i].id != cfg.id; i++)
		;
	if (i == cfg.npeers) {
		return report_usage("--id %u is not in --cluster", cfg.id);
	}
	if (!cfg.auth)
		report_warn("no --key-file: datagrams are not authenticated, and any "
			    "process that reaches UDP port %u can write",
			    cfg.port);
	clock_gettime(CLOCK_REALTIME, &ts);
	cfg.seed = (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 32 ^ cfg.id;
	rc = node_run(&cfg);
	return rc ? 1 : 0;
}
