/* SPDX-License-Identifier: GPL-2.0-only */
/* Text for an SVG or HTML page: what the markup would read as its own, escaped. */
#ifndef CAPNET_XML_H
#define CAPNET_XML_H

#include <stdio.h>

/* Writes s as element text or an attribute value: <, >, & and " escaped, and the control
 * characters XML 1.0 forbids (all below 0x20 but tab, newline and carriage return) left out,
 * so a stray byte of a message or a history never makes the file unreadable. */
void xml_write_text(FILE *f, const char *s);

#endif /* CAPNET_XML_H */
