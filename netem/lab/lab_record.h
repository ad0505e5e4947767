/* SPDX-License-Identifier: GPL-2.0-only */
/* What `up` was asked for, recorded before it builds anything: a lab whose `up` was killed
 * half-way is then known for what it was meant to be (`up -n 100`), not guessed from the
 * namespaces it left. The record is a file in the lab's run directory, which `down` removes. */
#ifndef CAPNET_LAB_RECORD_H
#define CAPNET_LAB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "netem/policy/spec.h"

/* Claims the lab's name for an `up` of `nodes` nodes. 0; -EEXIST when a record is there already
 * (another `up` runs, or one was killed: `down` clears it); -errno. */
int lab_record_create(const char *lab, unsigned int nodes);
/* The size the lab's `up` was asked for, or 0 when there is no record (a lab built by hand from
 * --explain, or by an older capnet). */
unsigned int lab_record_nodes(const char *lab);

/* For a message about a lab that is not whole: the command that makes it (`up -n N`, or
 * `adopt` for a lab of namespaces capnet did not build) and the commands that make it again. */
void lab_record_remedy(const char *lab, unsigned int nodes, char *made_by, size_t made_by_len,
		       char *remedy, size_t remedy_len);

/* Forgets the record (an `up` that rolled back), and the share's. */
void lab_record_remove(const char *lab);

/* Any other record of the lab, a file `name` in its run directory: written whole or not at all,
 * refused with -EEXIST when it is there. */
int lab_record_write(const char *lab, const char *name, const char *text, const char *why);
/* The same record put in place of the one there, if any: a reader finds the old one or the new
 * one, whole, never none. 0 or -errno. */
int lab_record_replace(const char *lab, const char *name, const char *text, const char *why);
/* Its text (NUL-terminated, cut at len); -ENOENT when there is none. */
int lab_record_read(const char *lab, const char *name, char *buf, size_t len);
void lab_record_forget(const char *lab, const char *name);

/* On a host of a lab across hosts: which of the lab's nodes live here, recorded beside the size
 * before the share is built, so that discovery expects exactly those namespaces and ports. */
int lab_record_share_create(const char *lab, const struct node_set *here);
/* 0 and the set when this host holds a share of the lab; -ENOENT when the lab is all here. */
int lab_record_share(const char *lab, struct node_set *here);
/* On a host of a lab across hosts, narrows set to the nodes this host holds: a command the
 * controller runs on every host, with the node numbers of the whole lab, acts on its share. */
void lab_record_keep_share(const char *lab, struct node_set *set);
/* The nodes 1..nodes of the lab that live on this host: all of them but on a host of a lab
 * across hosts. */
void lab_record_nodes_here(const char *lab, unsigned int nodes, struct node_set *here);

/* The two shared tc blocks a lab's ports are bound to (--hook blocks), recorded by `up` before
 * it binds them: which blocks the whole-lab check must find on every port. Block indexes belong
 * to a namespace, so they are unique per lab on a host. lab_record_blocks: 0, -ENOENT for a lab
 * whose ports hold filters of their own (clsact, tcx), -EINVAL for a record that is not one. */
int lab_record_blocks_create(const char *lab, uint32_t egress_block, uint32_t ingress_block);
int lab_record_blocks(const char *lab, uint32_t *egress_block, uint32_t *ingress_block);

#endif /* CAPNET_LAB_RECORD_H */
