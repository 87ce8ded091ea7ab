// Sortable tables: every header is a <button> inside its <th>, the sorted column
// carries aria-sort, numbers are right-aligned.

import { h } from './dom.js';

/**
 * columns: [{ key, label, num, value: row => sortable value, cell: row => node or text }]
 * sort: { key, dir: 'ascending' | 'descending' }
 */
export function sortableTable(opts) {
  return filterableTable(opts).element;
}

/**
 * A sortable table whose rows can be narrowed: { element, filter(keep) }, where
 * `filter` takes a predicate on rows (null shows them all) and returns how many show.
 */
export function filterableTable({ id, caption, columns, rows, sort, empty }) {
  const state = { key: sort ? sort.key : null, dir: sort ? sort.dir : 'ascending', keep: null };
  const order = rows.map((r, i) => ({ r, i }));
  const tbody = h('tbody');
  const ths = new Map();
  const headRow = h('tr');
  for (const col of columns) {
    const btn = h('button', { type: 'button', class: 'sort', 'data-key': col.key }, col.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }));
    const th = h('th', { scope: 'col', class: col.num ? 'num' : null, 'data-key': col.key }, btn);
    btn.addEventListener('click', () => {
      if (state.key === col.key) state.dir = state.dir === 'ascending' ? 'descending' : 'ascending';
      else {
        state.key = col.key;
        state.dir = col.num ? 'descending' : 'ascending';
      }
      fillBody();
    });
    ths.set(col.key, th);
    headRow.append(th);
  }
  const table = h('table', { class: 'data sortable', id },
    caption ? h('caption', null, caption) : null,
    h('thead', null, headRow), tbody);

  function compare(a, b, col) {
    const va = col.value(a.r);
    const vb = col.value(b.r);
    let c;
    if (typeof va === 'number' && typeof vb === 'number') c = va - vb;
    else if (va === null || va === undefined) c = vb === null || vb === undefined ? 0 : 1;
    else if (vb === null || vb === undefined) c = -1;
    else c = String(va).localeCompare(String(vb), 'en', { numeric: true, sensitivity: 'base' });
    return c;
  }

  function fillBody() {
    const col = columns.find((c) => c.key === state.key);
    const sorted = state.keep ? order.filter(({ r }) => state.keep(r)) : order.slice();
    if (col) {
      const sign = state.dir === 'ascending' ? 1 : -1;
      sorted.sort((a, b) => compare(a, b, col) * sign || a.i - b.i);
    }
    for (const [k, th] of ths) {
      if (k === state.key) th.setAttribute('aria-sort', state.dir);
      else th.setAttribute('aria-sort', 'none');
    }
    tbody.textContent = '';
    if (!sorted.length) {
      tbody.append(h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, state.keep && rows.length ? 'Nothing matches.' : empty || 'Nothing to show.')));
      return 0;
    }
    const frag = document.createDocumentFragment();
    for (const { r } of sorted) {
      const tr = h('tr');
      for (const c of columns) tr.append(h('td', { class: c.num ? 'num' : c.cls || null }, c.cell(r)));
      frag.append(tr);
    }
    tbody.append(frag);
    return sorted.length;
  }
  fillBody();
  return {
    element: h('div', { class: 'table-wrap' }, table),
    filter(keep) {
      state.keep = keep || null;
      return fillBody();
    },
  };
}

/** A plain table (no sorting) from column labels and rows of cells. */
export function plainTable({ id, caption, head, rows, num }) {
  const numSet = new Set(num || []);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id },
    caption ? h('caption', null, caption) : null,
    h('thead', null, h('tr', null, head.map((x, i) => h('th', { scope: 'col', class: numSet.has(i) ? 'num' : null }, x)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => h('td', { class: numSet.has(i) ? 'num' : null }, c)))))));
}
