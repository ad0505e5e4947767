/* SPDX-License-Identifier: GPL-2.0-only */
/* The message diagram every capnet picture of messages is (captrace's sequence diagram, the
 * Maelstrom harness's messages.svg): a lane per node, time running down with a time axis at
 * round seconds, fault windows as shaded bands, an arrow per message delivered and a red one,
 * cut short with a cross, per message lost, each with its hover (<title>) and, where it covers
 * no other label, its type beside it; delivered messages too many to draw apart as counts per
 * link and time bucket. On lib/svg; the callers choose what to draw and say it in its words. */
#ifndef CAPNET_MSG_DIAGRAM_H
#define CAPNET_MSG_DIAGRAM_H

#include <stddef.h>
#include <stdio.h>

#include "lib/svg.h"

/* The caller fills the first six; msg_diagram_begin lays out the rest. */
struct msg_diagram {
	unsigned int lanes;
	unsigned int first_name; /* lane 0 is named n<first_name> */
	double t0_s, t1_s; /* the time axis: from t0_s at the top to t1_s */
	double want_px; /* the time axis's length: at least 600 pixels */
	size_t n_lost; /* over 200, lost arrows are drawn thinner so that neighbours stay apart */
	double px_per_s, lane_gap, width, height;
	struct svg_labels placed;
};

/* Pixels of a bucket of folded delivered messages. */
#define MSG_DIAGRAM_BUCKET_PX 16

/* Lays the diagram out, under ~2000 pixels wide, and starts the SVG (class cls, with title at
 * the top and as its <title>). */
void msg_diagram_begin(FILE *f, struct msg_diagram *d, const char *cls, const char *title);
/* A fault or partition window from from_s to to_s, labelled at the right where the label fits;
 * hover may be NULL (the label then). */
void msg_diagram_band(FILE *f, struct msg_diagram *d, double from_s, double to_s, const char *label,
		      const char *hover);
/* The time axis and the lanes with their names: after the bands, before the arrows. */
void msg_diagram_axes(FILE *f, struct msg_diagram *d);
/* A message delivered: from lane `from` at sent_s to lane `to` at arrived_s; label (its type)
 * beside it where it fits, and hover, may be NULL. */
void msg_diagram_delivered(FILE *f, struct msg_diagram *d, unsigned int from, unsigned int to,
			   double sent_s, double arrived_s, const char *label, const char *hover);
/* A message lost of `cause`: a red arrow from lane `from` at sent_s, cut short with a cross
 * two thirds of the way to `to` (it died at the switch); a <g class="lost" data-cause=...>. */
void msg_diagram_lost(FILE *f, struct msg_diagram *d, unsigned int from, unsigned int to,
		      double sent_s, const char *cause, const char *label, const char *hover);
/* The bucket of time t_s: where delivered messages are counted when too many to draw apart. */
size_t msg_diagram_buckets(const struct msg_diagram *d);
size_t msg_diagram_bucket(const struct msg_diagram *d, double t_s);
/* `count` messages delivered from `from` to `to` in bucket b: one arrow, its width and label
 * giving the count. */
void msg_diagram_folded(FILE *f, struct msg_diagram *d, unsigned int from, unsigned int to,
			size_t b, unsigned int count);
/* Ends the SVG, with a note at the bottom (what was left out) when not NULL. 0, or -EIO. */
int msg_diagram_end(FILE *f, struct msg_diagram *d, const char *note);

#endif /* CAPNET_MSG_DIAGRAM_H */
