// SPDX-License-Identifier: GPL-2.0-only
/* The explorer of captrace's HTML report: every message of the recording as data in the page,
 * and a small viewer that draws on a canvas only what is in view, so a page of 100,000
 * messages opens as fast as one of a hundred. A lane per node, time to the right, an arrow per
 * message labelled with its type (and term or key), partition windows as bands; the lost ones
 * in red, drawn to the switch where the filter dropped them, with the cause; filters by type,
 * node, link and cause; repeats of one type on one link folded into a row with a count; wheel
 * to zoom, drag to pan; hover or click for the whole decoded message.
 *
 * A page opened with #test=... plays the clicks it names and writes what it then draws into
 * <pre id="test-result">, so a headless browser can check the viewer reacts (tests). */
#include <stdio.h>
#include <string.h>

#include "tools/captrace/trace_explorer.h"

/* A string for a JSON value inside a <script>: nothing in it can end the script. */
static void script_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* By enum trace_fate. */
static const char *const fate_short[TRACE_FATES] = { "delivered",   "partition", "loss",
						     "unexplained", "corrupted", "node killed" };

static const char viewer_js[] =
	"(function(){\n"
	"const D=JSON.parse(document.getElementById('trace-data').textContent);\n"
	"const M=D.m.sort((a,b)=>a[2]-b[2]),N=D.nodes,cv=document.getElementById('ex-canvas'),cx=cv.getContext('2d');\n"
	"const tip=document.getElementById('ex-tip'),det=document.getElementById('ex-detail');\n"
	"const st={t0:0,t1:Math.max(D.end,1e-6),types:new Set(),node:0,link:'',cause:'',fold:true};\n"
	"const types=[...new Set(M.map(m=>m[4]))].sort();types.forEach(t=>st.types.add(t));\n"
	"let maxFlight=0;for(const m of M)maxFlight=Math.max(maxFlight,m[3]-m[2]);\n"
	"function label(m){let s=m[4];const d=m[6];let x=/\\bterm[ =:]?(\\d+)/.exec(d);"
	"if(x)s+=' t'+x[1];x=/\\bkey[ =:]\"?([^ \",}]+)/.exec(d);if(x)s+=' '+x[1];return s;}\n"
	"const box=document.getElementById('ex-types');\n"
	"for(const t of types){const l=document.createElement('label');const c=document."
	"createElement('input');c.type='checkbox';c.checked=true;c.value=t;c.className='ex-type';"
	"c.onchange=()=>{c.checked?st.types.add(t):st.types.delete(t);draw();};l.appendChild(c);"
	"l.appendChild(document.createTextNode(' '+t+' '));box.appendChild(l);}\n"
	"const nodeSel=document.getElementById('ex-node'),linkSel=document.getElementById("
	"'ex-link'),causeSel=document.getElementById('ex-cause'),fold=document.getElementById("
	"'ex-fold');\n"
	"for(let i=1;i<=N;i++)nodeSel.add(new Option('node '+i,i));\n"
	"for(const l of [...new Set(M.map(m=>m[0]+'->'+m[1]))].sort())linkSel.add(new Option(l,l));\n"
	"nodeSel.onchange=()=>{st.node=+nodeSel.value;draw();};linkSel.onchange=()=>{st.link="
	"linkSel.value;draw();};causeSel.onchange=()=>{st.cause=causeSel.value;draw();};"
	"fold.onchange=()=>{st.fold=fold.checked;draw();};\n"
	"function shown(m){if(!st.types.has(m[4]))return false;if(st.node&&m[0]!=st.node&&m[1]!="
	"st.node)return false;if(st.link&&m[0]+'->'+m[1]!=st.link)return false;"
	"if(st.cause&&D.fates[m[5]]!=st.cause)return false;return true;}\n"
	"const L=70,R=20,T=24,B=24;let drawn=[],counts={},bands=[],ticks=[],hidden=0,shownLabels=0,boxes=[];\n"
	"function lane(n){return T+(n-0.5)*(cv.height-T-B)/N;}\n"
	"function X(t){return L+(t-st.t0)/(st.t1-st.t0)*(cv.width-L-R);}\n"
	"function lower(t){let a=0,b=M.length;while(a<b){const c=(a+b)>>1;if(M[c][2]<t)a=c+1;"
	"else b=c;}return a;}\n"
	/* A label is drawn only where it covers none drawn before it. */
	"function place(text,x,y){const w=cx.measureText(text).width,b=[x-1,y-11,x+w+1,y+3];"
	"for(const o of boxes)if(b[0]<o[2]&&o[0]<b[2]&&b[1]<o[3]&&o[1]<b[3])return false;"
	"boxes.push(b);cx.fillText(text,x,y);return true;}\n"
	/* Ticks at 1, 2 or 5 times a power of ten seconds, whole seconds once the view spans
	 * three, as many as their labels leave room for: the axis follows zoom and pan. */
	"function axis(){const span=st.t1-st.t0,px=(cv.width-L-R)/span;let step=1e-6;"
	"for(let i=0;step*px<70||(span>=3&&step<1);i++)step=[1,2,5][(i+1)%3]*Math.pow(10,"
	"Math.floor((i+1)/3)-6);const d=Math.max(0,-Math.floor(Math.log10(step)+1e-9)),y=cv."
	"height-B;cx.strokeStyle='#888';cx.beginPath();cx.moveTo(L,y);cx.lineTo(cv.width-R,y);"
	"cx.stroke();cx.fillStyle='#444';cx.textAlign='center';"
	"for(let k=Math.ceil(st.t0/step-1e-9);k*step<=st.t1+1e-12;k++){const x=X(k*step),t="
	"(k*step).toFixed(d)+' s';cx.strokeStyle='#eee';cx.beginPath();cx.moveTo(x,T);cx.lineTo("
	"x,y);cx.stroke();cx.strokeStyle='#888';cx.beginPath();cx.moveTo(x,y);cx.lineTo(x,y+4);"
	"cx.stroke();cx.fillText(t,x,y+16);ticks.push(t);}cx.textAlign='start';}\n"
	"function draw(){cv.width=cv.clientWidth;cx.clearRect(0,0,cv.width,cv.height);drawn=[];"
	"counts={};bands=[];ticks=[];hidden=0;shownLabels=0;boxes=[];\n"
	" cx.font='11px sans-serif';axis();\n"
	/* Partition bands in the colour of every other picture's fault bands. */
	" for(const w of D.w){const a=X(w[0]),b=X(w[1]);if(b<L||a>cv.width)continue;if(w[3]){"
	"cx.fillStyle='rgba(244,199,195,0.55)';cx.fillRect(Math.max(a,L),T,Math.min(b,cv.width-R)-"
	"Math.max(a,L),cv.height-T-B);}const g='gen '+w[2]+': '+w[4];bands.push(g);cx.fillStyle="
	"'#a33';if(!place(g,Math.max(a,L)+3,T-8))hidden++;}\n"
	" for(let n=1;n<=N;n++){cx.strokeStyle='#ccc';cx.beginPath();cx.moveTo(L,lane(n));"
	"cx.lineTo(cv.width-R,lane(n));cx.stroke();cx.fillStyle='#333';place('node '+n,4,"
	"lane(n)+4);}\n"
	" const first=lower(st.t0-maxFlight),vis=[];\n"
	" for(let i=first;i<M.length&&M[i][2]<=st.t1;i++){const m=M[i];if(m[3]<st.t0||!shown(m))"
	"continue;vis.push(i);}\n"
	" const rows=new Map();\n"
	" for(const i of vis){const m=M[i];const px=Math.round(X(m[2])/24);const k=st.fold?"
	"m[4]+'|'+m[0]+'|'+m[1]+'|'+m[5]+'|'+px:i;const r=rows.get(k);if(r)r.n++;else rows.set(k,"
	"{i:i,n:1});}\n"
	/* Lost ones first: their labels win a crowded spot. */
	" const order=[...rows.values()].sort((a,b)=>(M[b.i][5]>=1&&M[b.i][5]<=3)-(M[a.i][5]>=1&&"
	"M[a.i][5]<=3));\n"
	" for(const r of order){const m=M[r.i],lost=m[5]>=1&&m[5]<=3,x1=X(m[2]),y1=lane(m[0]),"
	"y2=lane(m[1]);let x2,yy;if(lost){x2=X(m[2]+(m[3]-m[2]));yy=(y1+y2)/2;}else{x2=X(m[3]);"
	"yy=y2;}\n"
	"  cx.strokeStyle=lost?'#d00':'#4a7ab5';cx.lineWidth=lost?1.6:1;cx.beginPath();cx.moveTo("
	"x1,y1);cx.lineTo(x2,yy);cx.stroke();cx.lineWidth=1;\n"
	"  if(lost){cx.fillStyle='#d00';cx.fillText('\\u2715',x2-3,yy+4);}\n"
	"  const lab=label(m)+(r.n>1?' \\u00d7'+r.n:'');counts[m[4]]=(counts[m[4]]||0)+r.n;\n"
	"  cx.fillStyle=lost?'#b00':'#235';if(place(lost?lab+' ('+D.fates[m[5]]+')':lab,(x1+x2)/2+3,"
	"(y1+yy)/2-3))shownLabels++;else hidden++;\n"
	"  drawn.push({x1,y1,x2,y2:yy,i:r.i,n:r.n,lab});}\n"
	/* What did not fit is counted, and an arrow's hover tells it. */
	" document.getElementById('ex-count').textContent=rows.size+' rows drawn, '+vis.length+"
	"' messages in view'+(hidden?', '+hidden+' labels hidden where they would overlap (hover an "
	"arrow)':'');}\n"
	"function near(ev){const b=cv.getBoundingClientRect(),x=ev.clientX-b.left,y=ev.clientY-"
	"b.top;let best=null,bd=36;for(const d of drawn){const vx=d.x2-d.x1,vy=d.y2-d.y1,l=vx*vx+"
	"vy*vy||1;let t=((x-d.x1)*vx+(y-d.y1)*vy)/l;t=Math.max(0,Math.min(1,t));const dx=d.x1+t*vx-"
	"x,dy=d.y1+t*vy-y,dd=dx*dx+dy*dy;if(dd<bd){bd=dd;best=d;}}return best;}\n"
	"function describe(d){const m=M[d.i];return m[0]+' \\u2192 '+m[1]+' at '+m[2].toFixed(6)+"
	"' s: '+D.fates[m[5]]+(d.n>1?' (one of '+d.n+' folded)':'')+'\\n'+m[6];}\n"
	"cv.onmousemove=ev=>{if(drag){const dt=(drag.x-ev.clientX)/(cv.width-L-R)*(st.t1-st.t0);"
	"st.t0+=dt;st.t1+=dt;drag.x=ev.clientX;draw();return;}const d=near(ev);if(!d){tip.style."
	"display='none';return;}tip.textContent=describe(d);tip.style.display='block';tip.style."
	"left=(ev.pageX+12)+'px';tip.style.top=(ev.pageY+12)+'px';};\n"
	"cv.onclick=ev=>{const d=near(ev);det.textContent=d?describe(d):'';};\n"
	"let drag=null;cv.onmousedown=ev=>{drag={x:ev.clientX};};window.addEventListener("
	"'mouseup',()=>{drag=null;});\n"
	"cv.addEventListener('wheel',ev=>{ev.preventDefault();const b=cv.getBoundingClientRect(),"
	"f=ev.deltaY>0?1.25:0.8,at=st.t0+(ev.clientX-b.left-L)/(cv.width-L-R)*(st.t1-st.t0);"
	"st.t0=at-(at-st.t0)*f;st.t1=at+(st.t1-at)*f;draw();},{passive:false});\n"
	"document.getElementById('ex-reset').onclick=()=>{st.t0=0;st.t1=Math.max(D.end,1e-6);"
	"draw();};\n"
	"window.addEventListener('resize',draw);draw();\n"
	/* #test=type:T (click every type box but T's), node:N, cause:C, nofold, zoom:A-B (s) */
	"const h=/#test=(.*)/.exec(location.hash);if(h){for(const a of decodeURIComponent(h[1])."
	"split(',')){const[k,v]=a.split(':');if(k=='type')for(const c of document."
	"querySelectorAll('input.ex-type'))if(c.value!=v&&c.checked)c.click();if(k=='node'){"
	"nodeSel.value=v;nodeSel.dispatchEvent(new Event('change'));}if(k=='cause'){causeSel."
	"value=v;causeSel.dispatchEvent(new Event('change'));}if(k=='nofold')fold.click();if(k=="
	"'zoom'){const[a,b]=v.split('-');st.t0=+a;st.t1=+b;draw();}}\n"
	" const out={rows:drawn.length,bands:bands,counts:counts,types:types,labels:drawn.slice(0,50).map(d=>"
	"d.lab),first:drawn.length?describe(drawn[0]):'',ticks:ticks,labels_shown:shownLabels,"
	"labels_hidden:hidden,boxes:boxes.length};document.getElementById('test-result')."
	"textContent=JSON.stringify(out);}\n"
	"})();\n";

int trace_explorer_write(FILE *f, const struct trace_analysis *an)
{
	char type[32], desc[512];
	size_t i;

	fputs("<h2>Explore</h2>\n<div id=\"ex-controls\" style=\"font-size:13px\">types: <span "
	      "id=\"ex-types\"></span><br>node <select id=\"ex-node\"><option value=\"0\">any"
	      "</option></select> link <select id=\"ex-link\"><option value=\"\">any</option>"
	      "</select> cause <select id=\"ex-cause\"><option value=\"\">any</option>",
	      f);
	for (i = 0; i < sizeof(fate_short) / sizeof(fate_short[0]); i++)
		fprintf(f, "<option>%s</option>", fate_short[i]);
	fputs("</select> <label><input type=\"checkbox\" id=\"ex-fold\" checked> fold repeats"
	      "</label> <button id=\"ex-reset\">whole capture</button> <span id=\"ex-count\">"
	      "</span><br><small>wheel: zoom, drag: pan, hover or click an arrow: the whole "
	      "message</small></div>\n<canvas id=\"ex-canvas\" style=\"width:100%;height:"
	      "420px;border:1px solid #bbb\" height=\"420\"></canvas>\n<pre id=\"ex-detail\" "
	      "style=\"white-space:pre-wrap\"></pre><div id=\"ex-tip\" style=\"display:none;"
	      "position:absolute;background:#ffd;border:1px solid #aa8;padding:4px;"
	      "font-size:12px;max-width:40em;white-space:pre-wrap\"></div>\n<pre id=\"test-result\" "
	      "hidden></pre>\n<script type=\"application/json\" id=\"trace-data\">",
	      f);
	/* Messages in send order: [from, to, sent s, arrived or dropped s, type, fate, text]. */
	fprintf(f, "{\"nodes\":%u,\"end\":%.6f,\"fates\":[", an->nodes,
		(an->stop_ns - an->start_ns) / 1e9);
	for (i = 0; i < sizeof(fate_short) / sizeof(fate_short[0]); i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", fate_short[i]);
	fputs("],\"w\":[", f);
	for (i = 0; i < an->nwindows; i++) {
		const struct trace_window *w = &an->windows[i];

		fprintf(f, "%s[%.6f,%.6f,%llu,%d,", i ? "," : "",
			(w->start_ns - an->start_ns) / 1e9, (w->end_ns - an->start_ns) / 1e9,
			(unsigned long long)w->generation, strcmp(w->spec, "healthy") != 0);
		script_string(f, w->spec);
		fputc(']', f);
	}
	fputs("],\"m\":[", f);
	for (i = 0; i < an->nmsgs; i++) {
		const struct trace_msg *m = &an->msgs[i];
		double sent = (m->time_ns - an->start_ns) / 1e9, end;

		/* A lost one is drawn to the switch, a short way along its link. */
		end = m->arrival_ns > m->time_ns ? (m->arrival_ns - an->start_ns) / 1e9 :
						   sent + 0.0002;
		trace_msg_describe(m, desc, sizeof(desc));
		fprintf(f, "%s[%u,%u,%.6f,%.6f,", i ? "," : "", m->key.from, m->key.to, sent, end);
		script_string(f, trace_msg_type(m, type, sizeof(type)));
		fprintf(f, ",%u,", m->fate < TRACE_FATES ? m->fate : 0);
		script_string(f, desc);
		fputs("]\n", f);
	}
	fputs("]}</script>\n<script>", f);
	fputs(viewer_js, f);
	fputs("</script>\n", f);
	return ferror(f) ? -1 : 0;
}
