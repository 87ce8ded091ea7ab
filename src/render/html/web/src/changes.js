// What one layer changed: the report's `layer_changes` for the layer picked in the
// timeline, as a tree (the WAI-ARIA tree pattern: one tab stop, Up/Down move, Right
// opens a folder or enters it, Left closes it or goes to its parent, Home/End, Enter
// or Space toggles), sortable by size or name, filterable by kind of change. Every
// figure is the report's: a folder's bytes and counts come summed in the data.

import { h } from './dom.js';
import { size, int, visible, clip, instruction } from './format.js';

// The order of every node's `bytes` and `entries`.
const KINDS = ['added', 'modified', 'deleted', 'hidden'];
const WORDS = { added: 'added', modified: 'modified', deleted: 'deleted', hidden: 'hidden later' };
const MAX_OPEN_ROWS = 40;

const total = (a) => a.reduce((x, y) => x + y, 0);

/** The view; `show(layerIndex)` fills it with that layer's changes. */
export function createChanges(report) {
  const byLayer = new Map((report.layer_changes || []).map((c) => [c.layer, c]));
  const rows = new Map((report.layers || []).filter((l) => l.index !== null).map((l) => [l.index, l]));
  const state = { layer: null, sort: 'size', filter: 'all', open: new Set(), focus: null };
  const title = h('h3', { id: 'changes-title' }, 'Select a layer above (click it, or Tab to it and press Enter) to see what it changed');
  const summary = h('p', { class: 'changes-summary', id: 'changes-summary' });
  const filter = h('div', { class: 'changes-filter', role: 'group', 'aria-label': 'Show' },
    ['all', ...KINDS].map((k) => h('button', {
      type: 'button', class: `chip${k === 'all' ? '' : ` mark-${k}`}`, 'data-filter': k, 'aria-pressed': String(k === 'all'),
      onclick: () => { state.filter = k; render(); },
    }, k === 'all' ? 'All changes' : `Only ${WORDS[k]}`)));
  const sortButton = (key, label) => h('button', {
    type: 'button', class: 'changes-sort', 'data-sort': key,
    onclick: () => { state.sort = key; render(); },
  }, label);
  const headBar = h('div', { class: 'changes-headbar' },
    h('span', { class: 'changes-sortlabel', id: 'changes-sort-label' }, 'Sort by'),
    sortButton('name', 'Path'), sortButton('size', 'Bytes'));
  const tree = h('ul', { class: 'changes-tree', role: 'tree', id: 'changes-tree', 'aria-labelledby': 'changes-title', onkeydown: onKey });
  const note = h('p', { class: 'muted changes-note' });
  const element = h('div', { class: 'changes', id: 'changes' }, title, summary, filter, headBar, tree, note);
  element.hidden = !byLayer.size;

  function show(layer) {
    state.layer = layer;
    state.open = new Set();
    state.focus = null;
    const c = byLayer.get(layer);
    if (c) openFirst(c.root);
    render();
  }

  // Open folders breadth first while the rows fit a screen.
  function openFirst(root) {
    let shown = kids(root).length;
    const queue = [root];
    state.open.add(root);
    while (queue.length) {
      const n = queue.shift();
      for (const c of kids(n)) {
        if (c.kind !== 'dir') continue;
        const more = kids(c).length;
        if (shown + more > MAX_OPEN_ROWS) return;
        shown += more;
        state.open.add(c);
        queue.push(c);
      }
    }
  }

  const weight = (n) => (state.filter === 'all' ? total(n.bytes) : n.bytes[KINDS.indexOf(state.filter)]);
  const counted = (n) => (state.filter === 'all' ? total(n.entries) : n.entries[KINDS.indexOf(state.filter)]);

  // A node's children as shown: filtered, sorted, a pruned node last.
  function kids(n) {
    const out = (n.children || []).filter((c) => counted(c) > 0);
    const name = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    out.sort((a, b) => (a.kind === 'pruned') - (b.kind === 'pruned')
      || (state.sort === 'size' ? weight(b) - weight(a) || name(a, b) : name(a, b) || weight(b) - weight(a)));
    return out;
  }

  // The visible rows, depth first.
  function flatten(root) {
    const out = [];
    const walk = (n, depth, parent) => {
      const list = kids(n);
      list.forEach((c, i) => {
        out.push({ node: c, depth, parent, pos: i + 1, count: list.length });
        if (c.kind === 'dir' && state.open.has(c)) walk(c, depth + 1, c);
      });
    };
    walk(root, 1, null);
    return out;
  }

  function render() {
    for (const b of filter.children) b.setAttribute('aria-pressed', String(b.dataset.filter === state.filter));
    for (const b of headBar.querySelectorAll('button')) {
      const on = b.dataset.sort === state.sort;
      b.setAttribute('aria-pressed', String(on));
      b.textContent = `${b.dataset.sort === 'name' ? 'Path' : 'Bytes'}${on ? (state.sort === 'name' ? ' ▲' : ' ▼') : ''}`;
    }
    const c = byLayer.get(state.layer);
    const l = rows.get(state.layer);
    tree.replaceChildren();
    if (!c) {
      if (state.layer !== null) title.textContent = `Layer ${state.layer}`;
      summary.textContent = state.layer === null ? '' : 'This layer changed no file.';
      note.textContent = '';
      return;
    }
    title.textContent = `Layer ${state.layer}: ${clip(instruction(l && l.created_by) || '(no instruction recorded)', 120)}`;
    const r = c.root;
    const part = (i) => `${int(r.entries[i])} ${WORDS[KINDS[i]]} (${size(r.bytes[i])})`;
    const shipped = [0, 1, 3].filter((i) => r.entries[i] > 0).map(part);
    summary.textContent = [
      `Ships ${size(r.bytes[0] + r.bytes[1] + r.bytes[3])}${shipped.length ? `: ${shipped.join(', ')}` : ''}.`,
      r.entries[2] > 0 ? `Removes from view ${part(2)}.` : '',
    ].filter(Boolean).join(' ');
    note.textContent = c.pruned_entries
      ? `${int(c.pruned_entries)} smaller files are folded into “more files” rows; every folder's figures still count them.`
      : '';
    const list = flatten(r);
    if (!list.length) {
      tree.append(h('li', { class: 'muted', role: 'none' }, 'Nothing of this kind.'));
      return;
    }
    if (!list.some((x) => x.node === state.focus)) state.focus = list[0].node;
    for (const x of list) tree.append(item(x));
  }

  function item(x) {
    const n = x.node;
    const dir = n.kind === 'dir';
    const kind = n.kind === 'file' ? n.change : null;
    const name = n.kind === 'pruned' ? `${int(counted(n))} more ${counted(n) === 1 ? 'file' : 'files'}` : visible(n.name) + (dir ? '/' : '');
    const li = h('li', {
      role: 'treeitem', class: `changes-row${kind ? ` row-${kind}` : ''}${n.kind === 'pruned' ? ' row-pruned' : ''}`,
      'aria-level': x.depth, 'aria-setsize': x.count, 'aria-posinset': x.pos,
      'aria-expanded': dir ? String(state.open.has(n)) : null,
      tabindex: n === state.focus ? '0' : '-1',
      style: `--depth:${x.depth - 1}`,
    },
    h('span', { class: 'twisty', 'aria-hidden': 'true' }, dir ? (state.open.has(n) ? '▾' : '▸') : ''),
    h('span', { class: 'c-name' }, name),
    h('span', { class: `c-mark${kind ? ` mark-${kind}` : ''}` }, mark(n)),
    h('span', { class: 'c-bytes' }, size(weight(n))));
    li.addEventListener('click', () => {
      state.focus = n;
      if (dir) toggle(n); else render();
      focusCurrent();
    });
    rowOf.set(li, x);
    return li;
  }

  // What a row says of its change: a file's kind and layer, a folder's counts.
  function mark(n) {
    if (n.kind === 'file') {
      const k = n.change;
      if (k === 'modified') return `modified (replaces layer ${n.layer})`;
      if (k === 'deleted') return `deleted (from layer ${n.layer})`;
      if (k === 'hidden') return n.layer === state.layer ? 'hidden later (in this layer)' : `hidden later by layer ${n.layer}`;
      return 'added';
    }
    return KINDS.map((k, i) => [k, n.entries[i]]).filter(([k, e]) => e > 0 && (state.filter === 'all' || state.filter === k))
      .map(([k, e]) => `${int(e)} ${WORDS[k]}`).join(', ');
  }

  const rowOf = new WeakMap();

  function toggle(n) {
    if (state.open.has(n)) state.open.delete(n); else state.open.add(n);
    render();
  }

  function focusCurrent() {
    const li = tree.querySelector('[tabindex="0"]');
    if (li) li.focus();
  }

  function onKey(e) {
    const items = [...tree.querySelectorAll('[role="treeitem"]')];
    const at = items.findIndex((li) => li === document.activeElement);
    if (at < 0) return;
    const x = rowOf.get(items[at]);
    const n = x.node;
    const dir = n.kind === 'dir';
    const go = (i) => { state.focus = rowOf.get(items[i]).node; render(); focusCurrent(); };
    let handled = true;
    switch (e.key) {
      case 'ArrowDown': if (at + 1 < items.length) go(at + 1); break;
      case 'ArrowUp': if (at > 0) go(at - 1); break;
      case 'Home': go(0); break;
      case 'End': go(items.length - 1); break;
      case 'ArrowRight':
        if (dir && !state.open.has(n)) { toggle(n); focusCurrent(); } else if (dir && at + 1 < items.length) go(at + 1);
        break;
      case 'ArrowLeft':
        if (dir && state.open.has(n)) { toggle(n); focusCurrent(); } else if (x.parent) { state.focus = x.parent; render(); focusCurrent(); }
        break;
      case 'Enter':
      case ' ':
        if (dir) { toggle(n); focusCurrent(); }
        break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  }

  render();
  return { element, show };
}
