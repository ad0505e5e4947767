// SPDX-License-Identifier: GPL-2.0-only
/* capctl get, put, cas, open, transfer, balance and status: one request to node -n I, its
 * answer printed as text or JSON, and an exit status a script can branch on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/monotonic.h"
#include "lib/report.h"
#include "netem/lab/topology.h"
#include "tools/capctl/capctl.h"
#include "tools/capctl/client.h"
#include "tools/capctl/workload.h"

#define CAPNODE_PORT 7070

static int usage(const char *cmd, const char *args)
{
	report_usage("usage: capctl [-n I] %s %s", cmd, args);
	return CAPCTL_USAGE;
}

static int text_arg(const char *what, const char *text, char *dst, size_t size)
{
	if (!*text || strlen(text) >= size) {
		report_fail("%s must be 1 to %zu bytes", what, size - 1);
		return -1;
	}
	memcpy(dst, text, strlen(text) + 1);
	return 0;
}

static int value_arg(const char *what, const char *text, struct proto_value *v)
{
	size_t n = strlen(text);

	if (n > PROTO_VALUE_MAX) {
		report_fail("%s is %zu bytes, at most %d", what, n, PROTO_VALUE_MAX);
		return -1;
	}
	memcpy(v->data, text, n);
	v->len = n;
	return 0;
}

static int amount_arg(const char *text, int64_t *amount)
{
	char *end;

	errno = 0;
	*amount = strtoll(text, &end, 10);
	if (!*text || *end || errno || *amount < 0) {
		report_fail("amount \"%s\" is not a whole number >= 0", text);
		return -1;
	}
	return 0;
}

/* The exit status the README promises: 0 ok, 3 unavailable, 4 unknown, 1 other. */
static int exit_status(enum reply_status s)
{
	switch (s) {
	case REPLY_OK:
		return CAPCTL_OK;
	case REPLY_UNAVAILABLE:
	case REPLY_NOT_LEADER:
		return CAPCTL_UNAVAILABLE;
	case REPLY_TIMEOUT:
		return CAPCTL_INDETERMINATE;
	default:
		return CAPCTL_FAIL;
	}
}

static void print_reply(const struct client_request *req, const struct client_reply *rep)
{
	const char *status = proto_reply_status_name(rep->status);
	unsigned int i;

	if (capctl_opts.json) {
		printf("{\"node\":%u,\"op\":\"%s\",\"status\":\"%s\"", capctl_opts.node,
		       proto_op_name(req->op), status ? status : "?");
		if (rep->value.len || req->op == CLIENT_OP_GET ||
		    rep->status == REPLY_CAS_MISMATCH) {
			printf(",\"value\":");
			if (rep->status == REPLY_NOT_FOUND)
				printf("null");
			else
				json_write_bytes(stdout, rep->value.data, rep->value.len);
		}
		if (req->op == CLIENT_OP_BALANCE || req->op == CLIENT_OP_OPEN ||
		    req->op == CLIENT_OP_TRANSFER)
			printf(",\"amount\":%lld", (long long)rep->amount);
		if (rep->nsiblings) {
			printf(",\"siblings\":[");
			for (i = 0; i < rep->nsiblings; i++) {
				if (i)
					putchar(',');
				json_write_bytes(stdout, rep->siblings[i].data,
						 rep->siblings[i].len);
			}
			printf("]");
		}
		if (rep->replicas_answered)
			printf(",\"replicas\":%u", rep->replicas_answered);
		if (rep->leader_hint)
			printf(",\"leader\":%u", rep->leader_hint);
		if (rep->context[0]) {
			printf(",\"context\":");
			json_write_bytes(stdout, (const uint8_t *)rep->context,
					 strlen(rep->context));
		}
		if (rep->reason[0]) {
			printf(",\"reason\":");
			json_write_bytes(stdout, (const uint8_t *)rep->reason, strlen(rep->reason));
		}
		printf("}\n");
		return;
	}
	if (rep->status != REPLY_OK) {
		/* The refusal is the answer: on stdout, with the node's own reason. */
		printf("%s%s%s\n", status ? status : "?", rep->reason[0] ? ": " : "", rep->reason);
		if (rep->status == REPLY_CAS_MISMATCH)
			printf("current value: %.*s\n", rep->value.len, rep->value.data);
		return;
	}
	switch (req->op) {
	case CLIENT_OP_GET:
		printf("%.*s\n", rep->value.len, rep->value.data);
		for (i = 0; i < rep->nsiblings; i++)
			printf("sibling: %.*s\n", rep->siblings[i].len, rep->siblings[i].data);
		/* AP with siblings: the causal context to give back with the next put. */
		if (rep->context[0])
			printf("context: %s\n", rep->context);
		if (capctl_opts.verbose && rep->replicas_answered)
			printf("replicas: %u\n", rep->replicas_answered);
		break;
	case CLIENT_OP_BALANCE:
		if (req->key[0])
			printf("%lld\n", (long long)rep->amount);
		else
			printf("%.*s\ntotal=%lld\n", rep->value.len, rep->value.data,
			       (long long)rep->amount);
		/* AP mode: an overdraft after a split is reported, never hidden. */
		if (rep->reason[0])
			printf("%s\n", rep->reason);
		break;
	default:
		printf("OK\n");
	}
}

/* A request must fit in one datagram: the key and both values of a cas share it. */
static int request_fits(const struct client_request *req)
{
	static uint8_t scratch[PROTO_MAX_PAYLOAD];
	struct proto_writer w;

	proto_writer_init(&w, scratch, sizeof(scratch));
	if (!proto_put_client_request(&w, req) && !w.overflow)
		return CAPCTL_OK;
	report_usage("the request does not fit in one datagram: its key and values take %zu "
		     "bytes, and a request carries at most %d bytes in all",
		     strlen(req->key) + req->value.len + req->expected.len +
			     strlen(req->from_account) + strlen(req->to_account),
		     PROTO_MAX_PAYLOAD);
	return CAPCTL_USAGE;
}

/* The node named with -n, entered: refuses (exit 2) a node the lab does not have, as capnet
 * does, and says when there is no lab at all. */
static int open_node(struct capnet_client *c)
{
	struct lab_info info;
	int err;

	if (!capctl_opts.node) {
		report_usage("which node? (-n I before the command)");
		return CAPCTL_USAGE;
	}
	if (geteuid() != 0) {
		report_fail("talking to a node means entering its namespace: run as root");
		return CAPCTL_FAIL;
	}
	err = lab_topology_discover(capctl_opts.lab, &info);
	if (err == -ENOENT) {
		error_clear();
		report_fail("no lab \"%s\" (capnet --lab %s up -n N creates one)", capctl_opts.lab,
			    capctl_opts.lab);
		return CAPCTL_FAIL;
	}
	if (err) {
		report_fail("%s", error_reason(err));
		return CAPCTL_FAIL;
	}
	if (capctl_opts.node > info.nodes) {
		report_usage("node %u is out of range (the lab has %u node%s)", capctl_opts.node,
			     info.nodes, info.nodes == 1 ? "" : "s");
		return CAPCTL_USAGE;
	}
	err = client_open(c, capctl_opts.lab, capctl_opts.node, CAPNODE_PORT);
	return err ? report_error(err, NULL) : CAPCTL_OK;
}

/* --history: a get, put or cas as lines of a history (docs/history-format.md), the invoke
 * written before the request goes, so that a capctl killed meanwhile leaves an open invoke
 * (an unknown outcome), as the format wants. */
static const char *history_f(const struct client_request *req)
{
	switch (req->op) {
	case CLIENT_OP_GET:
		return "read";
	case CLIENT_OP_PUT:
		return "write";
	case CLIENT_OP_CAS:
		return "cas";
	default:
		return NULL;
	}
}

uint64_t history_now(void)
{
	uint64_t now = monotonic_ns();

	return now - workload_clock_origin(now);
}

static void history_line(FILE *f, const char *type, const struct client_request *req,
			 const struct client_reply *rep)
{
	/* Under capnet run, from the run's start, as a load's times and the faults are. */
	unsigned long long t = history_now();

	fprintf(f, "{\"process\":%u,\"type\":\"%s\",\"f\":\"%s\",\"key\":", capctl_opts.process,
		type, history_f(req));
	json_write_bytes(f, (const uint8_t *)req->key, strlen(req->key));
	fputs(",\"value\":", f);
	if (req->op == CLIENT_OP_GET && rep && rep->status == REPLY_OK) {
		json_write_bytes(f, rep->value.data, rep->value.len);
	} else if (req->op == CLIENT_OP_GET) {
		fputs("null", f);
	} else if (req->op == CLIENT_OP_PUT) {
		json_write_bytes(f, req->value.data, req->value.len);
	} else {
		fputc('[', f);
		json_write_bytes(f, req->expected.data, req->expected.len);
		fputc(',', f);
		json_write_bytes(f, req->value.data, req->value.len);
		fputc(']', f);
	}
	fprintf(f, ",\"time\":%llu,\"node\":%u}\n", t, capctl_opts.node);
	fflush(f);
}

/* As capctl load judges an answer (tools/capctl/workload.c). */
static const char *history_outcome(const struct client_request *req, int err,
				   const struct client_reply *rep)
{
	if (err)
		return "info";
	switch (rep->status) {
	case REPLY_OK:
		return "ok";
	case REPLY_NOT_FOUND:
		return req->op == CLIENT_OP_GET ? "ok" : "fail";
	case REPLY_UNAVAILABLE:
	case REPLY_NOT_LEADER:
	case REPLY_CAS_MISMATCH:
	case REPLY_BAD_REQUEST:
		return "fail";
	default:
		return "info";
	}
}

static int call(struct client_request *req)
{
	struct capnet_client c;
	struct client_reply rep;
	FILE *history = NULL;
	int err;

	err = request_fits(req);
	if (!err && capctl_opts.history && !history_f(req)) {
		report_fail("--history records get, put and cas");
		err = CAPCTL_USAGE;
	}
	if (!err)
		err = open_node(&c);
	if (err)
		return err;
	if (capctl_opts.history) {
		/* "-": before the answer, for the controller of a lab across hosts to restamp. */
		history = strcmp(capctl_opts.history, "-") ? fopen(capctl_opts.history, "a") :
							     stdout;
		if (!history) {
			report_warn("--history %s: %s", capctl_opts.history, strerror(errno));
			client_close(&c);
			return CAPCTL_FAIL;
		}
		history_line(history, "invoke", req, NULL);
	}
	req->consistency = capctl_opts.consistency;
	err = client_call(&c, req, capctl_opts.timeout_ms, &rep);
	client_close(&c);
	if (history) {
		history_line(history, history_outcome(req, err, &rep), req, err ? NULL : &rep);
		if (history != stdout)
			fclose(history);
	}
	if (err == -ETIMEDOUT) {
		if (capctl_opts.json)
			printf("{\"node\":%u,\"op\":\"%s\",\"status\":\"TIMEOUT\",\"reason\":\"no "
			       "answer from the node within %ld ms\"}\n",
			       capctl_opts.node, proto_op_name(req->op), capctl_opts.timeout_ms);
		else
			printf("TIMEOUT: no answer from node %u within %ld ms; the outcome is "
			       "unknown\n",
			       capctl_opts.node, capctl_opts.timeout_ms);
		return CAPCTL_INDETERMINATE;
	}
	if (err) {
		report_fail("%s", strerror(-err));
		return CAPCTL_FAIL;
	}
	print_reply(req, &rep);
	return exit_status(rep.status);
}

int capctl_get_main(int argc, char **argv)
{
	static struct client_request req = { .op = CLIENT_OP_GET };

	if (argc != 2)
		return usage("get", "KEY");
	if (text_arg("the key", argv[1], req.key, sizeof(req.key)))
		return CAPCTL_USAGE;
	return call(&req);
}

int capctl_put_main(int argc, char **argv)
{
	static struct client_request req = { .op = CLIENT_OP_PUT };

	if (argc != 3 && argc != 4)
		return usage("put", "KEY VALUE [CONTEXT]");
	/* CONTEXT: AP with siblings, the context a get printed; the put replaces what that get
	 * saw (docs/ap-mode.md). */
	if (text_arg("the key", argv[1], req.key, sizeof(req.key)) ||
	    value_arg("the value", argv[2], &req.value) ||
	    (argc == 4 && value_arg("the context", argv[3], &req.expected)))
		return CAPCTL_USAGE;
	return call(&req);
}

int capctl_cas_main(int argc, char **argv)
{
	static struct client_request req = { .op = CLIENT_OP_CAS };

	if (argc != 4)
		return usage("cas", "KEY EXPECTED NEW");
	if (text_arg("the key", argv[1], req.key, sizeof(req.key)) ||
	    value_arg("the expected value", argv[2], &req.expected) ||
	    value_arg("the new value", argv[3], &req.value))
		return CAPCTL_USAGE;
	return call(&req);
}

int capctl_open_main(int argc, char **argv)
{
	static struct client_request req = { .op = CLIENT_OP_OPEN };

	if (argc != 3)
		return usage("open", "ACCOUNT AMOUNT");
	if (text_arg("the account", argv[1], req.key, sizeof(req.key)) ||
	    amount_arg(argv[2], &req.amount))
		return CAPCTL_USAGE;
	return call(&req);
}

int capctl_transfer_main(int argc, char **argv)
{
	static struct client_request req = { .op = CLIENT_OP_TRANSFER };

	if (argc != 4)
		return usage("transfer", "FROM TO AMOUNT");
	if (text_arg("the source account", argv[1], req.from_account, sizeof(req.from_account)) ||
	    text_arg("the target account", argv[2], req.to_account, sizeof(req.to_account)) ||
	    amount_arg(argv[3], &req.amount))
		return CAPCTL_USAGE;
	return call(&req);
}

int capctl_balance_main(int argc, char **argv)
{
	static struct client_request req = { .op = CLIENT_OP_BALANCE };

	if (argc > 2)
		return usage("balance", "[ACCOUNT]");
	if (argc == 2 && text_arg("the account", argv[1], req.key, sizeof(req.key)))
		return CAPCTL_USAGE;
	return call(&req);
}

int capctl_status_main(int argc, char **argv)
{
	struct capnet_client c;
	struct status_reply st;
	char reach[4096];
	size_t used = 0;
	unsigned int i, nreach = 0;
	uint64_t refused = 0;
	int err;

	(void)argv;
	if (argc != 1)
		return usage("status", "");
	err = open_node(&c);
	if (err)
		return err;
	err = client_status(&c, capctl_opts.timeout_ms, &st);
	client_close(&c);
	if (err) {
		printf("TIMEOUT: node %u did not answer within %ld ms (is it running?)\n",
		       capctl_opts.node, capctl_opts.timeout_ms);
		return CAPCTL_INDETERMINATE;
	}
	reach[0] = 0;
	for (i = 1; i <= PROTO_MAX_NODE && used < sizeof(reach) - 8; i++)
		if (proto_bitmap_test(st.reachable, i)) {
			used += snprintf(reach + used, sizeof(reach) - used, "%s%u",
					 nreach ? "," : "", i);
			nreach++;
		}
	for (i = 1; i <= PROTO_ERR_RX_MAX; i++)
		refused += st.rx[i];
	if (capctl_opts.json) {
		printf("{\"node\":%u,\"mode\":\"%s\",\"role\":\"%s\",\"term\":%llu,\"leader\":%u,"
		       "\"commit\":%llu,\"applied\":%llu,\"last_index\":%llu,\"cluster\":%u,"
		       "\"reachable\":[%s],\"accepted\":%llu,\"refused\":%llu,\"notes\":",
		       st.node_id, proto_mode_name(st.mode), proto_role_name(st.role),
		       (unsigned long long)st.term, st.leader, (unsigned long long)st.commit_index,
		       (unsigned long long)st.applied_index, (unsigned long long)st.last_log_index,
		       st.cluster_size, reach, (unsigned long long)st.rx[0],
		       (unsigned long long)refused);
		json_write_bytes(stdout, (const uint8_t *)st.notes, strlen(st.notes));
		/* Each kind of refusal by name, so that a forged datagram shows as what it was. */
		printf(",\"refused_by\":{");
		for (i = 1, nreach = 0; i <= PROTO_ERR_RX_MAX; i++)
			if (st.rx[i])
				printf("%s\"%s\":%llu", nreach++ ? "," : "",
				       proto_error_name(-(int)i), (unsigned long long)st.rx[i]);
		printf("}");
		if (st.mode == PROTO_MODE_AP)
			printf(",\"keys\":%llu,\"hints_pending\":%llu,\"hints_delivered\":%llu,"
			       "\"read_repairs\":%llu,\"ae_rounds\":%llu,\"ae_repairs\":%llu",
			       (unsigned long long)st.ap.keys,
			       (unsigned long long)st.ap.hints_pending,
			       (unsigned long long)st.ap.hints_delivered,
			       (unsigned long long)st.ap.read_repairs,
			       (unsigned long long)st.ap.ae_rounds,
			       (unsigned long long)st.ap.ae_repairs);
		printf("}\n");
		return CAPCTL_OK;
	}
	printf("node %u: %s %s, term %llu, leader %u\n", st.node_id, proto_mode_name(st.mode),
	       proto_role_name(st.role), (unsigned long long)st.term, st.leader);
	if (st.mode == PROTO_MODE_AP)
		printf("%llu keys; hints: %llu held, %llu delivered; %llu read repairs; "
		       "anti-entropy: %llu rounds, %llu repairs\n",
		       (unsigned long long)st.ap.keys, (unsigned long long)st.ap.hints_pending,
		       (unsigned long long)st.ap.hints_delivered,
		       (unsigned long long)st.ap.read_repairs, (unsigned long long)st.ap.ae_rounds,
		       (unsigned long long)st.ap.ae_repairs);
	else
		printf("commit %llu, applied %llu, last log index %llu\n",
		       (unsigned long long)st.commit_index, (unsigned long long)st.applied_index,
		       (unsigned long long)st.last_log_index);
	printf("reachable: %u/%u (%s)\n", nreach, st.cluster_size, reach);
	if (st.notes[0])
		printf("%s\n", st.notes);
	printf("datagrams: %llu accepted", (unsigned long long)st.rx[0]);
	for (i = 1; i <= PROTO_ERR_RX_MAX; i++)
		if (st.rx[i])
			printf(", %llu %s", (unsigned long long)st.rx[i],
			       proto_error_name(-(int)i));
	printf("\n");
	return CAPCTL_OK;
}
