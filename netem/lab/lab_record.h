/* SPDX-License-Identifier: GPL-2.0-only */
/* What `up` was asked for, recorded before it builds anything: a lab whose `up` was killed
 * half-way is then known for what it was meant to be (`up -n 100`), not guessed from the
 * namespaces it left. The record is a file in the lab's run directory, which `down` removes. */
#ifndef CAPNET_LAB_RECORD_H
#define CAPNET_LAB_RECORD_H

/* Claims the lab's name for an `up` of `nodes` nodes. 0; -EEXIST when a record is there already
 * (another `up` runs, or one was killed: `down` clears it); -errno. */
int lab_record_create(const char *lab, unsigned int nodes);
/* The size the lab's `up` was asked for, or 0 when there is no record (a lab built by hand from
 * --explain, or by an older capnet). */
unsigned int lab_record_nodes(const char *lab);

/* Forgets the record (an `up` that rolled back). */
void lab_record_remove(const char *lab);

#endif /* CAPNET_LAB_RECORD_H */
