// SPDX-License-Identifier: GPL-2.0-only
// Appended to a page (or a page holding an SVG) that chromium headless then opens with
// --dump-dom: measures what the browser really drew and writes the verdict into
// <pre id="layout-result">, for a test to read.
//  - overlaps: pairs of <text> whose boxes (getBBox(), in page coordinates) intersect by more
//    than half a pixel each way, with the two texts;
//  - thin_axes: every <g class="axis ..."> with fewer than three tick labels (<text class="tick">);
//  - texts, axes: how many of each were looked at, so a test can tell it looked at something.
(function () {
	function box(t) {
		const b = t.getBBox(), m = t.getScreenCTM();
		if (!m || !b.width || !b.height) return null;
		return { x0: b.x * m.a + m.e, y0: b.y * m.d + m.f, x1: (b.x + b.width) * m.a + m.e,
			 y1: (b.y + b.height) * m.d + m.f, text: t.textContent };
	}
	const boxes = [];
	for (const t of document.querySelectorAll('svg text')) {
		if (getComputedStyle(t).display === 'none' || getComputedStyle(t).visibility === 'hidden')
			continue;
		const b = box(t);
		if (b) boxes.push(b);
	}
	boxes.sort((a, b) => a.x0 - b.x0);
	const overlaps = [];
	for (let i = 0; i < boxes.length; i++)
		for (let j = i + 1; j < boxes.length && boxes[j].x0 < boxes[i].x1 - 0.5; j++) {
			const a = boxes[i], b = boxes[j];
			if (a.y0 < b.y1 - 0.5 && b.y0 < a.y1 - 0.5 && Math.min(a.x1, b.x1) - b.x0 > 0.5)
				overlaps.push([a.text, b.text]);
		}
	const axes = document.querySelectorAll('svg g.axis');
	const thin = [];
	for (const g of axes) {
		const n = g.querySelectorAll('text.tick').length;
		if (n < 3) thin.push(g.getAttribute('class') + ': ' + n + ' tick labels');
	}
	let out = document.getElementById('layout-result');
	if (!out) {
		out = document.createElement('pre');
		out.id = 'layout-result';
		document.body.appendChild(out);
	}
	out.textContent = JSON.stringify({ texts: boxes.length, axes: axes.length,
		overlaps: overlaps.length, thin_axes: thin.length,
		first_overlaps: overlaps.slice(0, 5), first_thin: thin.slice(0, 5) });
})();
