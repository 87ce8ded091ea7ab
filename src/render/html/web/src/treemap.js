// The zoomable treemap of the report's pruned filesystem tree (`tree`).
//
// d3-hierarchy gives the hierarchy and the squarified tiling; the view is drawn by
// hand: the current folder's children, nested two more levels where there is room,
// breadth first so that the big boxes are drawn before the budget of boxes runs out.
// Only the current folder's direct children take keyboard focus (a roving tabindex);
// deeper boxes are pictures of what Enter would open.

import { hierarchy, treemapSquarify } from 'd3-hierarchy';
import { h, s, uid } from './dom.js';
import { size, int, visible, clip, instruction, percent } from './format.js';
import { family, layerColors, tint, textOn, NO_DATA, PRUNED, FAMILIES } from './colors.js';

const MAX_BOXES = 1500;
const MAX_DEPTH = 3;
const HEADER = 17;
const PAD = 2;
const MIN_SIDE = 3;
const CHAR_W = 6.6;
const tile = treemapSquarify.ratio(1.4);

/** The tree as a d3 hierarchy, each node with its full `path` and `label`. */
export function prepareTree(tree) {
  const root = hierarchy(tree.root, (d) => (d.kind === 'dir' && Array.isArray(d.children) && d.children.length ? d.children : null));
  root.sum((d) => {
    const own = Number(d.bytes) || 0;
    if (d.kind === 'dir' && Array.isArray(d.children) && d.children.length) {
      const kids = d.children.reduce((a, c) => a + (Number(c.bytes) || 0), 0);
      return Math.max(0, own - kids);
    }
    return own;
  });
  root.each((n) => {
    const d = n.data;
    if (!n.parent) {
      n.path = '/';
      n.label = '/';
    } else if (d.kind === 'pruned') {
      n.path = n.parent.path;
      n.label = `${int(d.entries || 0)} smaller ${d.entries === 1 ? 'entry' : 'entries'}`;
    } else {
      n.path = n.parent.path === '/' ? `/${d.name}` : `${n.parent.path}/${d.name}`;
      n.label = visible(d.name);
    }
  });
  return root;
}

function files(k) {
  return `${int(k)} ${k === 1 ? 'file' : 'files'}`;
}

function kindWord(n) {
  switch (n.data.kind) {
    case 'dir': return 'folder';
    case 'file': return 'file';
    case 'symlink': return 'symlink';
    case 'pruned': return 'smaller entries';
    default: return 'other';
  }
}

export function createTreemap(report, { onNavigate } = {}) {
  const tree = report.tree;
  const root = prepareTree(tree);
  const layerById = new Map();
  for (const l of report.layers || []) if (l.index !== null && l.index !== undefined) layerById.set(l.index, l);
  const colorsByLayer = layerColors(report.layers || []);
  const total = root.data.bytes || root.value || 1;

  let lastWidth = 0;
  const state = { current: root, mode: 'layer', highlight: null, focusPath: null };
  const boxNode = new WeakMap();
  let focusables = [];

  // ---- text about a node -------------------------------------------------------
  function layerText(n, long) {
    const i = n.data.layer;
    if (i === null || i === undefined) return 'no layer';
    const l = layerById.get(i);
    const scope = l && l.scope === 'base' ? 'base' : 'yours';
    if (!long || !l) return `layer ${i}`;
    return `layer ${i} (${scope}): ${clip(instruction(l.created_by) || '(no instruction recorded)', 90)}`;
  }
  function categoryText(n) {
    const c = n.data.category;
    if (!c) return 'no category';
    return `${visible(c)} (${family(c).name.toLowerCase()})`;
  }
  function displayPath(n) {
    if (n.data.kind === 'pruned') return `${visible(n.path)} (${n.label})`;
    return visible(n.path);
  }
  function ariaLabel(n) {
    const parts = [`${kindWord(n)} ${displayPath(n)}`, size(n.data.bytes)];
    if (n.data.kind === 'dir' || n.data.kind === 'pruned') parts.push(files(n.data.files));
    parts.push(layerText(n, false), `category ${n.data.category ? visible(n.data.category) : 'none'}`);
    return parts.join(', ');
  }
  function color(n) {
    if (n.data.kind === 'pruned') return PRUNED;
    if (state.mode === 'category') return n.data.category ? family(n.data.category).color : NO_DATA;
    const c = colorsByLayer.get(n.data.layer);
    return c || NO_DATA;
  }

  // ---- elements ---------------------------------------------------------------
  const svgId = 'treemap-svg';
  const svg = s('svg', { id: svgId, role: 'group', class: 'tm-svg', focusable: 'false' });
  const defs = s('defs', null,
    s('pattern', { id: 'tm-hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      s('rect', { width: 6, height: 6, fill: '#e3e6ea' }),
      s('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#9aa3ad', 'stroke-width': 2 })));
  const layer = s('g');
  svg.append(defs, layer);

  const crumbs = h('ol');
  const nav = h('nav', { 'aria-label': 'Breadcrumb', id: 'treemap-breadcrumb', class: 'breadcrumb' }, crumbs);
  const status = h('p', { id: 'treemap-status', class: 'tm-status', 'aria-live': 'polite' });
  const tip = h('div', { id: 'treemap-tip', class: 'tm-tip', role: 'tooltip', hidden: true });
  const frame = h('div', { class: 'tm-frame', id: 'treemap' }, svg, tip);
  const tableBody = h('tbody');
  const tableCaption = h('caption');
  const altTable = h('table', { class: 'data', id: 'treemap-table' }, tableCaption,
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'num' }, 'Size'),
      h('th', { scope: 'col', class: 'num' }, 'Files'), h('th', { scope: 'col' }, 'Layer'),
      h('th', { scope: 'col' }, 'Category'))),
    tableBody);
  const alt = h('details', { class: 'alt' }, h('summary', null, 'Show this folder as a table'), altTable);
  const legend = h('div', { class: 'legend', id: 'treemap-legend' });

  const radioName = uid('colour');
  function radio(value, text) {
    const id = uid('colour-by');
    return h('span', { class: 'radio' },
      h('input', { type: 'radio', name: radioName, id, value, checked: value === state.mode, onchange: () => setMode(value) }),
      h('label', { for: id }, text));
  }
  const toggle = h('fieldset', { class: 'toggle', id: 'treemap-colour' },
    h('legend', null, 'Colour by'), radio('layer', 'Layer'), radio('category', 'Category'));

  let pruneText;
  if (!tree.pruned_entries) pruneText = `Every entry is shown (${int(tree.nodes)} boxes).`;
  else if (!tree.pruned_bytes) {
    pruneText = `${int(tree.pruned_entries)} entries without bytes of their own (empty files and folders, symlinks, names whose content another name counts) are left out. The tree has ${int(tree.nodes)} boxes.`;
  } else {
    pruneText = `To keep this page small, entries under ${size(tree.min_bytes)} were folded into grey hatched boxes: `
      + `${int(tree.pruned_entries)} entries holding ${size(tree.pruned_bytes)} (${percent(tree.pruned_bytes, total)} of the content). `
      + `The tree has ${int(tree.nodes)} boxes in all (budget ${int(tree.max_nodes)}).`;
  }
  const pruneNote = h('p', { class: 'muted', id: 'treemap-pruned' }, pruneText);

  const element = h('div', { class: 'treemap' },
    h('div', { class: 'tm-controls' }, toggle, legend),
    nav, frame, status, pruneNote, alt);

  // ---- legend -------------------------------------------------------------------
  function renderLegend() {
    legend.textContent = '';
    const items = [];
    if (state.mode === 'category') {
      const present = new Set();
      root.each((n) => { if (n.data.category) present.add(family(n.data.category).id); });
      for (const f of FAMILIES) {
        if (!present.has(f.id)) continue;
        items.push(h('li', { title: f.categories.join(', ') }, h('span', { class: 'sw', style: `background:${f.color}` }), f.name));
      }
    } else {
      const used = new Set();
      root.each((n) => { if (n.data.layer !== null && n.data.layer !== undefined) used.add(n.data.layer); });
      for (const [i, c] of colorsByLayer) {
        if (!used.has(i)) continue;
        const l = layerById.get(i);
        const text = `${i}${l && l.scope === 'base' ? ' base' : ''}`;
        items.push(h('li', { title: visible(instruction(l && l.created_by)) }, h('span', { class: 'sw', style: `background:${c}` }), text));
      }
    }
    items.push(h('li', null, h('span', { class: 'sw sw-hatch' }), 'smaller entries'));
    legend.append(h('span', { class: 'legend-title' }, state.mode === 'category' ? 'Categories:' : 'Layers:'), h('ul', null, items));
  }

  // ---- layout and drawing -------------------------------------------------------
  // The drawing width, estimated from the window and the page's paddings (see
  // style.css) instead of measured: measuring would force a layout of the whole page
  // before the first paint. The <svg> is scaled to its box by CSS, so a small error
  // only scales the drawing a little.
  function dims() {
    const vw = window.innerWidth || 1280;
    const pagePad = vw <= 720 ? 14 : 24;
    const w = Math.max(300, Math.min(vw, 1240) - 2 * pagePad - 2 * 21 - 2);
    const hh = Math.round(Math.max(340, Math.min(620, w * 0.52)));
    lastWidth = w;
    return { w, h: hh };
  }

  function tileChildren(node, x0, y0, x1, y1) {
    const kids = (node.children || []).filter((c) => c.value > 0);
    if (!kids.length || x1 - x0 < 1 || y1 - y0 < 1) return [];
    const parent = { children: kids, value: kids.reduce((a, c) => a + c.value, 0) };
    tile(parent, x0, y0, x1, y1);
    return kids.map((c) => ({ node: c, x0: c.x0, y0: c.y0, x1: c.x1, y1: c.y1 }));
  }

  function render({ focus } = {}) {
    const { w, h: hh } = dims();
    svg.setAttribute('viewBox', `0 0 ${w} ${hh}`);
    svg.setAttribute('width', w);
    svg.setAttribute('height', hh);
    layer.textContent = '';
    focusables = [];
    const cur = state.current;
    const items = [];
    let queue = tileChildren(cur, 0, 0, w, hh).map((r) => ({ ...r, depth: 1 }));
    while (queue.length && items.length < MAX_BOXES) {
      const next = [];
      for (const r of queue) {
        if (items.length >= MAX_BOXES) break;
        let { x0, y0, x1, y1 } = r;
        const forced = state.highlight === r.node;
        if (x1 - x0 < MIN_SIDE || y1 - y0 < MIN_SIDE) {
          if (!forced) continue;
          x1 = Math.max(x1, x0 + 6);
          y1 = Math.max(y1, y0 + 6);
        }
        const nested = r.node.children && r.depth < MAX_DEPTH && x1 - x0 > 44 && y1 - y0 > HEADER + 18;
        items.push({ ...r, x0, y0, x1, y1, nested });
        if (nested) {
          for (const k of tileChildren(r.node, x0 + PAD, y0 + HEADER, x1 - PAD, y1 - PAD)) next.push({ ...k, depth: r.depth + 1 });
        }
      }
      queue = next;
    }

    const frag = document.createDocumentFragment();
    let highlightEl = null;
    for (const it of items) {
      const n = it.node;
      const bw = it.x1 - it.x0;
      const bh = it.y1 - it.y0;
      const base = color(n);
      const isPruned = n.data.kind === 'pruned';
      const fillColor = isPruned ? 'url(#tm-hatch)' : it.nested ? tint(base, 0.72) : base;
      const ink = isPruned ? '#333a44' : it.nested ? '#1a1f29' : textOn(base);
      const g = s('g', {
        class: `tm-box tm-${n.data.kind}${it.nested ? ' tm-nested' : ''}`,
        'data-depth': it.depth,
        'data-kind': n.data.kind,
      });
      if (isPruned) g.setAttribute('data-pruned-in', n.path);
      else g.setAttribute('data-path', n.path);
      g.append(s('rect', {
        x: it.x0.toFixed(1), y: it.y0.toFixed(1), width: bw.toFixed(1), height: bh.toFixed(1),
        fill: fillColor, class: 'tm-rect',
      }));
      if (it.nested && bh > 14) {
        g.append(s('rect', {
          x: it.x0.toFixed(1), y: it.y0.toFixed(1), width: bw.toFixed(1), height: HEADER - 1,
          fill: isPruned ? PRUNED : tint(base, 0.45), class: 'tm-head',
        }));
      }
      const maxChars = Math.floor((bw - 8) / CHAR_W);
      if (maxChars >= 3 && bh >= 14) {
        const sizeText = size(n.data.bytes);
        const name = n.label;
        let line = clip(name, maxChars);
        if (it.nested && maxChars > name.length + sizeText.length + 3) line = `${name}  ${sizeText}`;
        g.append(s('text', { x: (it.x0 + 4).toFixed(1), y: (it.y0 + 12).toFixed(1), fill: ink, class: it.nested ? 'tm-label tm-label-head' : 'tm-label', 'aria-hidden': 'true' }, line));
        if (!it.nested && bh >= 30 && maxChars >= 5) {
          g.append(s('text', { x: (it.x0 + 4).toFixed(1), y: (it.y0 + 26).toFixed(1), fill: ink, class: 'tm-label tm-sub', 'aria-hidden': 'true' }, sizeText));
        }
      }
      if (it.depth === 1) {
        g.setAttribute('tabindex', '-1');
        g.setAttribute('role', n.data.kind === 'dir' ? 'button' : 'img');
        g.setAttribute('aria-label', ariaLabel(n));
        focusables.push({ el: g, node: n, x0: it.x0, y0: it.y0, x1: it.x1, y1: it.y1 });
      } else {
        g.setAttribute('aria-hidden', 'true');
      }
      if (n === state.highlight) {
        g.classList.add('tm-highlight');
        highlightEl = s('rect', {
          x: (it.x0 + 1).toFixed(1), y: (it.y0 + 1).toFixed(1), width: Math.max(1, bw - 2).toFixed(1), height: Math.max(1, bh - 2).toFixed(1),
          class: 'tm-highlight-ring', 'aria-hidden': 'true',
        });
      }
      boxNode.set(g, n);
      frag.append(g);
    }
    if (highlightEl) frag.append(highlightEl);
    layer.append(frag);

    // roving tabindex: the box asked for, or the highlighted one, or the first.
    const wantNode = focus ? focus.node : state.highlight;
    const target = focusables.find((f) => f.node === wantNode) || focusables[0];
    if (target) {
      target.el.setAttribute('tabindex', '0');
      if (focus) target.el.focus();
    }

    const shown = items.length;
    const hidden = countDescendantsToDepth(cur) - shown;
    svg.setAttribute('aria-label', `Treemap of ${visible(cur.path)}: ${size(cur.data.bytes)} in ${files(cur.data.files)}; ${int((cur.children || []).length)} entries`);
    status.textContent = `${visible(cur.path)}: ${size(cur.data.bytes)}, ${files(cur.data.files)}, ${percent(cur.data.bytes, total)} of the image's content.`
      + (hidden > 0 ? ` ${int(hidden)} boxes too small to draw here; open a folder to see them.` : '');
    renderCrumbs();
    renderAltTable();
  }

  function countDescendantsToDepth(n) {
    let count = 0;
    const walk = (x, d) => {
      if (!x.children || d > MAX_DEPTH) return;
      for (const c of x.children) {
        if (c.value <= 0) continue;
        count += 1;
        walk(c, d + 1);
      }
    };
    walk(n, 1);
    return count;
  }

  function renderCrumbs() {
    crumbs.textContent = '';
    const chain = state.current.ancestors().reverse();
    chain.forEach((n, i) => {
      const last = i === chain.length - 1;
      const label = n.parent ? visible(n.data.name) : '/';
      if (last) {
        crumbs.append(h('li', null, h('span', { 'aria-current': 'location', 'data-path': n.path }, label)));
      } else {
        crumbs.append(h('li', null, h('button', { type: 'button', 'data-path': n.path, onclick: () => zoomTo(n, { focus: true }) }, label)));
      }
    });
  }

  function renderAltTable() {
    tableBody.textContent = '';
    const cur = state.current;
    tableCaption.textContent = `Entries of ${visible(cur.path)}, biggest first`;
    const kids = (cur.children || []).slice(0, 300);
    for (const c of kids) {
      tableBody.append(h('tr', null,
        h('td', { class: 'path' }, c.data.kind === 'dir' ? `${c.label}/` : c.label),
        h('td', { class: 'num' }, size(c.data.bytes)),
        h('td', { class: 'num' }, int(c.data.files)),
        h('td', null, layerText(c, false)),
        h('td', null, c.data.category ? visible(c.data.category) : '-')));
    }
  }

  // ---- interaction --------------------------------------------------------------
  function zoomTo(node, opts = {}) {
    let n = node;
    while (n && n.data.kind !== 'dir') n = n.parent;
    if (!n) n = root;
    const from = state.current;
    state.current = n;
    if (!opts.keepHighlight) state.highlight = null;
    hideTip();
    let focus = null;
    if (opts.focus) {
      // going up: focus the folder we came from; going down: the first box.
      let back = from;
      while (back && back.parent !== n) back = back.parent;
      focus = { node: back && back !== n ? back : null };
    }
    render({ focus });
    if (onNavigate) onNavigate(n);
  }

  function setMode(mode) {
    state.mode = mode;
    renderLegend();
    render();
  }

  function showTip(g, n, evt) {
    tip.textContent = '';
    const layerRow = n.data.layer !== null && n.data.layer !== undefined ? layerText(n, true) : 'no layer (no bytes)';
    tip.append(
      h('div', { class: 'tip-path' }, displayPath(n)),
      h('div', null, `${size(n.data.bytes)} (${int(n.data.bytes)} bytes)`
        + (n.data.kind === 'file' ? '' : `, ${files(n.data.files)}`)
        + (n.data.kind === 'pruned' ? `, each entry under ${size(tree.min_bytes)}` : '')),
      h('div', null, layerRow),
      h('div', null, `Category: ${categoryText(n)}`),
      n.data.kind === 'dir' ? h('div', { class: 'tip-hint' }, 'Click or press Enter to open') : null);
    tip.hidden = false;
    const fr = frame.getBoundingClientRect();
    let x;
    let y;
    if (evt && evt.clientX !== undefined) {
      x = evt.clientX - fr.left + 14;
      y = evt.clientY - fr.top + 14;
    } else {
      const r = g.getBoundingClientRect();
      x = r.left - fr.left + 8;
      y = r.top - fr.top + Math.min(r.height, 40);
    }
    const tw = tip.offsetWidth;
    const th = tip.offsetHeight;
    if (x + tw > fr.width - 4) x = Math.max(4, fr.width - tw - 4);
    if (y + th > fr.height - 4) y = Math.max(4, y - th - 24);
    tip.style.left = `${Math.round(x)}px`;
    tip.style.top = `${Math.round(y)}px`;
  }
  function hideTip() { tip.hidden = true; }

  svg.addEventListener('mousemove', (e) => {
    const g = e.target.closest && e.target.closest('.tm-box');
    if (!g) { hideTip(); return; }
    showTip(g, boxNode.get(g), e);
  });
  svg.addEventListener('mouseleave', hideTip);
  svg.addEventListener('focusin', (e) => {
    const g = e.target.closest && e.target.closest('.tm-box');
    if (g && boxNode.get(g)) showTip(g, boxNode.get(g), null);
  });
  svg.addEventListener('focusout', hideTip);
  svg.addEventListener('click', (e) => {
    const g = e.target.closest && e.target.closest('.tm-box');
    if (!g) return;
    const n = boxNode.get(g);
    if (n.data.kind === 'dir') zoomTo(n);
    else if (n.parent && n.parent !== state.current) zoomTo(n.parent);
  });

  function moveFocus(fromEl, dir) {
    const i = focusables.findIndex((f) => f.el === fromEl);
    if (i < 0) return;
    const a = focusables[i];
    let best = null;
    let bestScore = Infinity;
    const ax = (a.x0 + a.x1) / 2;
    const ay = (a.y0 + a.y1) / 2;
    for (const b of focusables) {
      if (b === a) continue;
      const bx = (b.x0 + b.x1) / 2;
      const by = (b.y0 + b.y1) / 2;
      let primary;
      let overlap;
      if (dir === 'right') { if (b.x0 < a.x1 - 1) continue; primary = b.x0 - a.x1; overlap = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0); }
      else if (dir === 'left') { if (b.x1 > a.x0 + 1) continue; primary = a.x0 - b.x1; overlap = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0); }
      else if (dir === 'down') { if (b.y0 < a.y1 - 1) continue; primary = b.y0 - a.y1; overlap = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0); }
      else { if (b.y1 > a.y0 + 1) continue; primary = a.y0 - b.y1; overlap = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0); }
      const cross = dir === 'left' || dir === 'right' ? Math.abs(by - ay) : Math.abs(bx - ax);
      const score = primary * 4 + (overlap > 0 ? 0 : 1000) + cross;
      if (score < bestScore) { bestScore = score; best = b; }
    }
    if (!best) {
      // nothing that way: step through the boxes in size order instead.
      const step = dir === 'right' || dir === 'down' ? 1 : -1;
      best = focusables[i + step];
    }
    if (best) focusBox(best.el);
  }
  function focusBox(el) {
    for (const f of focusables) f.el.setAttribute('tabindex', f.el === el ? '0' : '-1');
    el.focus();
  }

  svg.addEventListener('keydown', (e) => {
    const g = e.target.closest && e.target.closest('.tm-box');
    if (!g) return;
    const n = boxNode.get(g);
    const dirs = { ArrowRight: 'right', ArrowLeft: 'left', ArrowDown: 'down', ArrowUp: 'up' };
    if (dirs[e.key]) {
      e.preventDefault();
      moveFocus(g, dirs[e.key]);
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      const f = e.key === 'Home' ? focusables[0] : focusables[focusables.length - 1];
      if (f) focusBox(f.el);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (n.data.kind === 'dir') zoomTo(n, { focus: true });
    } else if (e.key === 'Backspace' || e.key === 'Escape') {
      if (state.current.parent) {
        e.preventDefault();
        zoomTo(state.current.parent, { focus: true });
      }
    }
  });

  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const before = lastWidth;
      dims();
      if (Math.abs(lastWidth - before) >= 8) render();
    }, 120);
  });

  /** Zoom to the folder holding `node` and mark `node`. */
  function reveal(node) {
    const folder = node.parent || root;
    state.highlight = node;
    zoomTo(folder, { keepHighlight: true });
  }

  function start() {
    renderLegend();
    render();
  }

  return { element, start, root, zoomTo, reveal, state };
}
