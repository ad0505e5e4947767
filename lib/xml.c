// SPDX-License-Identifier: GPL-2.0-only
/* Escaped text for the SVG and HTML pages of captrace, capctl report and Maelstrom tests. */
#include "lib/xml.h"

void xml_write_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			fputc(c, f);
	}
}
