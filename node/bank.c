// SPDX-License-Identifier: GPL-2.0-only
/* The bank of node/bank.h, kept in a node/kv.h map whose values are 8-byte balances: the map
 * gives O(1) lookups and the sorted walk that listings and snapshots need. */
#include "node/bank.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/kv.h"

struct bank {
	struct kv *accounts;
	int64_t total;
};

struct bank *bank_open(void)
{
	struct bank *bank = calloc(1, sizeof(*bank));

	if (!bank)
		return NULL;
	bank->accounts = kv_open();
	if (!bank->accounts) {
		free(bank);
		return NULL;
	}
	return bank;
}

void bank_close(struct bank *bank)
{
	if (!bank)
		return;
	kv_close(bank->accounts);
	free(bank);
}

size_t bank_count(const struct bank *bank)
{
	return kv_count(bank->accounts);
}

int64_t bank_total(const struct bank *bank)
{
	return bank->total;
}

bool bank_name_valid(const char *name)
{
	size_t n = strnlen(name, PROTO_KEY_MAX + 1);

	if (n < 1 || n > PROTO_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x21 || name[i] > 0x7e || name[i] == ',' || name[i] == '=')
			return false;
	return true;
}

int bank_balance(const struct bank *bank, const char *name, int64_t *balance)
{
	const uint8_t *v;
	size_t len;

	if (kv_get(bank->accounts, name, &v, &len))
		return -ENOENT;
	memcpy(balance, v, sizeof(*balance));
	return 0;
}

/* The account exists, and the value has the same size: kv_put() only copies, it cannot fail. */
static void balance_set(struct bank *bank, const char *name, int64_t balance)
{
	kv_put(bank->accounts, name, &balance, sizeof(balance));
}

int bank_open_account(struct bank *bank, const char *name, int64_t balance)
{
	int64_t cur;
	int err;

	if (!bank_name_valid(name) || balance < 0)
		return -EINVAL;
	if (!bank_balance(bank, name, &cur))
		return -EEXIST;
	if (balance > INT64_MAX - bank->total)
		return -EOVERFLOW;
	err = kv_put(bank->accounts, name, &balance, sizeof(balance));
	if (err)
		return err;
	bank->total += balance;
	return 0;
}

int bank_transfer(struct bank *bank, const char *from, const char *to, int64_t amount)
{
	int64_t fb, tb;

	if (amount <= 0 || !strcmp(from, to))
		return -EINVAL;
	if (bank_balance(bank, from, &fb) || bank_balance(bank, to, &tb))
		return -ENOENT;
	if (fb < amount)
		return -ENOSPC;
	/* tb + amount <= total <= INT64_MAX: balances are non-negative and sum to the total. */
	balance_set(bank, from, fb - amount);
	balance_set(bank, to, tb + amount);
	return 0;
}

struct visit {
	bank_visit_fn fn;
	void *arg;
};

static int visit_account(void *arg, const char *key, const uint8_t *value, size_t len)
{
	struct visit *v = arg;
	int64_t balance;

	(void)len;
	memcpy(&balance, value, sizeof(balance));
	return v->fn(v->arg, key, balance);
}

int bank_foreach(const struct bank *bank, bank_visit_fn fn, void *arg)
{
	struct visit v = { fn, arg };

	return kv_foreach(bank->accounts, visit_account, &v);
}

struct listing {
	char *buf;
	size_t cap, len;
};

static int list_account(void *arg, const char *name, int64_t balance)
{
	struct listing *l = arg;
	char item[PROTO_KEY_MAX + 24];
	int n = snprintf(item, sizeof(item), "%s%s=%" PRId64, l->len ? "," : "", name, balance);

	if ((size_t)n > l->cap - l->len)
		return -E2BIG;
	memcpy(l->buf + l->len, item, (size_t)n);
	l->len += (size_t)n;
	return 0;
}

int bank_format(const struct bank *bank, char *buf, size_t cap)
{
	struct listing l = { buf, cap, 0 };
	int err = bank_foreach(bank, list_account, &l);

	return err ? err : (int)l.len;
}

static void reason(struct client_reply *rep, enum reply_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reason(struct client_reply *rep, enum reply_status status, const char *fmt, ...)
{
	va_list ap;

	rep->status = status;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
}

/* BALANCE; -ENOMEM (rep undefined) when listing the bank cannot allocate. */
static int balance_query(const struct bank *bank, const struct client_request *req,
			 struct client_reply *rep)
{
	int n;

	if (req->key[0]) {
		if (bank_balance(bank, req->key, &rep->amount))
			reason(rep, REPLY_NOT_FOUND, "no such account");
		else
			rep->status = REPLY_OK;
		return 0;
	}
	rep->amount = bank->total;
	n = bank_format(bank, (char *)rep->value.data, sizeof(rep->value.data));
	if (n == -ENOMEM)
		return n;
	if (n < 0) {
		rep->value.len = 0;
		reason(rep, REPLY_ERROR,
		       "%zu accounts do not fit in one reply; ask for each account",
		       bank_count(bank));
		return 0;
	}
	rep->status = REPLY_OK;
	rep->value.len = (uint16_t)n;
	return 0;
}

void bank_query(const struct bank *bank, const struct client_request *req, struct client_reply *rep)
{
	if (req->op != CLIENT_OP_BALANCE) {
		reason(rep, REPLY_BAD_REQUEST, "not a bank read");
		return;
	}
	/* A read changes nothing, so unlike an applied entry it can fail on this node alone. */
	if (balance_query(bank, req, rep)) {
		rep->value.len = 0;
		reason(rep, REPLY_ERROR, "out of memory listing the bank");
	}
}

int bank_execute(struct bank *bank, const struct client_request *req, struct client_reply *rep)
{
	int64_t balance;
	int err;

	switch (req->op) {
	case CLIENT_OP_BALANCE:
		return balance_query(bank, req, rep);
	case CLIENT_OP_OPEN:
		err = bank_open_account(bank, req->key, req->amount);
		if (!err) {
			rep->status = REPLY_OK;
			rep->amount = req->amount;
		} else if (err == -EEXIST) {
			reason(rep, REPLY_BAD_REQUEST, "account already exists");
		} else if (err == -EINVAL && req->amount < 0) {
			reason(rep, REPLY_BAD_REQUEST, "opening balance must not be negative");
		} else if (err == -EINVAL) {
			reason(rep, REPLY_BAD_REQUEST,
			       "account names are printable ASCII without ',', '=' or spaces");
		} else if (err == -EOVERFLOW) {
			reason(rep, REPLY_BAD_REQUEST,
			       "opening balance would overflow the bank total");
		} else {
			return err;
		}
		return 0;
	case CLIENT_OP_TRANSFER:
		err = bank_transfer(bank, req->from_account, req->to_account, req->amount);
		if (!err) {
			rep->status = REPLY_OK;
			rep->amount = req->amount;
		} else if (err == -EINVAL && req->amount <= 0) {
			reason(rep, REPLY_BAD_REQUEST, "amount must be positive");
		} else if (err == -EINVAL) {
			reason(rep, REPLY_BAD_REQUEST, "transfer to the same account");
		} else if (err == -ENOENT) {
			reason(rep, REPLY_NOT_FOUND, "no such account: %s",
			       bank_balance(bank, req->from_account, &balance) ? "from" : "to");
		} else {
			bank_balance(bank, req->from_account, &rep->amount);
			reason(rep, REPLY_INSUFFICIENT_FUNDS,
			       "balance %" PRId64 " < amount %" PRId64, rep->amount, req->amount);
		}
		return 0;
	default:
		reason(rep, REPLY_BAD_REQUEST, "not a bank operation");
		return 0;
	}
}
