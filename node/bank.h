/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replicated bank as a pure state machine: accounts by name with non-negative balances,
 * opened with a balance and changed only by transfers, so the total always equals the sum of
 * the opening balances. The CP mode applies it in log order; the checks and the listing format
 * are separate functions so that other representations of a bank can share them.
 *
 * Account names are 1..128 printable ASCII characters (0x21..0x7e) other than ',' and '=', so
 * the listing of the whole bank parses back: "alice=100,bob=50", in strcmp() order of names.
 */
#ifndef CAPNET_BANK_H
#define CAPNET_BANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/proto.h"

struct bank;

/* NULL plus errno (ENOMEM). */
struct bank *bank_open(void);
void bank_close(struct bank *bank);

size_t bank_count(const struct bank *bank);
/* The sum of all balances, which is the sum of all opening balances. */
int64_t bank_total(const struct bank *bank);

bool bank_name_valid(const char *name);

/* 0 and *balance, or -ENOENT. */
int bank_balance(const struct bank *bank, const char *name, int64_t *balance);
/* 0, -EINVAL (bad name or negative balance), -EEXIST, -EOVERFLOW (the total would exceed
 * INT64_MAX), -ENOMEM. Unchanged on error. */
int bank_open_account(struct bank *bank, const char *name, int64_t balance);
/* 0, -EINVAL (amount <= 0, or from == to), -ENOENT (either account unknown), -ENOSPC
 * (insufficient funds: from's balance < amount). Atomic: both balances change or neither. */
int bank_transfer(struct bank *bank, const char *from, const char *to, int64_t amount);

/*
 * Calls fn for every account in name order; stops at the first nonzero return of fn and
 * returns it; 0 after the last account, or -ENOMEM.
 */
typedef int (*bank_visit_fn)(void *arg, const char *name, int64_t balance);
int bank_foreach(const struct bank *bank, bank_visit_fn fn, void *arg);

/*
 * Writes the listing "alice=100,bob=50" (no NUL) into buf. Returns its length, -E2BIG when it
 * needs more than cap bytes, or -ENOMEM.
 */
int bank_format(const struct bank *bank, char *buf, size_t cap);

/*
 * Client operations. bank_execute() runs OPEN, TRANSFER and BALANCE and fills rep's status,
 * amount, reason and value; it returns 0, or -ENOMEM with the bank unchanged. bank_query()
 * runs BALANCE only, without changing anything (ERROR if it cannot allocate). Replies:
 *   OPEN      OK (amount: the balance); BAD_REQUEST if the account exists, the name is not
 *             valid, the balance is negative or would overflow the total
 *   TRANSFER  OK (amount: the amount moved); BAD_REQUEST for amount <= 0 or from == to;
 *             NOT_FOUND for an unknown account (reason says which); INSUFFICIENT_FUNDS
 *             (amount: from's balance)
 *   BALANCE   one account: OK (amount: its balance) or NOT_FOUND. Empty key, the whole bank:
 *             OK, value the listing, amount the total; ERROR (amount still the total) when the
 *             listing does not fit a reply's PROTO_VALUE_MAX bytes.
 */
int bank_execute(struct bank *bank, const struct client_request *req, struct client_reply *rep);
void bank_query(const struct bank *bank, const struct client_request *req,
		struct client_reply *rep);

#endif /* CAPNET_BANK_H */
