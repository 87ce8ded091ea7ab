// The page for `imgsize diff OLD NEW --format html`.

import { h, s, uid, section } from './dom.js';
import { size, signedSize, int, signedInt, visible, clip } from './format.js';
import { family } from './colors.js';
import { sortableTable, plainTable } from './tables.js';

function delta(d, bytes = true) {
  const n = Number(d) || 0;
  const cls = n > 0 ? 'up' : n < 0 ? 'down' : 'same';
  return h('span', { class: `delta ${cls}` }, bytes ? signedSize(n) : signedInt(n));
}

const STATUS_WORD = {
  grew: 'grew', shrank: 'shrank', appeared: 'appeared', disappeared: 'disappeared', version: 'new version',
  unchanged: 'unchanged', changed: 'changed', added: 'added', removed: 'removed', new: 'new', gone: 'gone',
};

function statusCell(st) {
  return h('span', { class: `status st-${visible(st)}` }, STATUS_WORD[st] || visible(st));
}

function side(label, sd) {
  return h('div', { class: 'side' },
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'side-ref' }, visible(sd.reference || sd.source)),
    sd.reference ? h('div', { class: 'card-sub' }, visible(sd.source)) : null,
    sd.complete ? null : h('div', { class: 'card-sub warn-text' }, 'incomplete: some layers could not be read'));
}

function totalsTable(d) {
  const t = d.totals || {};
  const rows = [
    ['Content (visible)', 'content_bytes'], ['Wasted', 'wasted_bytes'], ['Stored', 'stored_bytes'],
    ['Compressed', 'compressed_bytes'], ['Uncompressed', 'uncompressed_bytes'], ['Files', 'files', false], ['Layers', 'layers', false],
  ].filter(([, k]) => t[k]);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'diff-totals-table' },
    h('caption', null, 'Totals, old and new'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Figure'), h('th', { scope: 'col', class: 'num' }, 'Old'),
      h('th', { scope: 'col', class: 'num' }, 'New'), h('th', { scope: 'col', class: 'num' }, 'Change'))),
    h('tbody', null, rows.map(([label, k, bytes = true]) => {
      const c = t[k];
      return h('tr', null, h('th', { scope: 'row' }, label),
        h('td', { class: 'num' }, bytes ? size(c.old) : int(c.old)),
        h('td', { class: 'num' }, bytes ? size(c.new) : int(c.new)),
        h('td', { class: 'num' }, delta(c.delta, bytes)));
    }))));
}

function categoryBars(d) {
  const cats = d.categories || [];
  if (!cats.length) return h('p', { class: 'muted' }, 'No category changed.');
  const W = 1000;
  const labelW = 190;
  const barW = W - labelW - 280;
  const max = Math.max(1, ...cats.map((c) => Math.max(c.bytes.old, c.bytes.new)));
  const rows = [];
  let y = 2;
  for (const c of cats) {
    const ow = (c.bytes.old / max) * barW;
    const nw = (c.bytes.new / max) * barW;
    rows.push(s('g', { class: 'ch-row' },
      s('title', null, `${visible(c.category)}: ${size(c.bytes.old)} to ${size(c.bytes.new)} (${signedSize(c.bytes.delta)})`),
      s('rect', { x: 0, y: y + 6, width: 12, height: 12, fill: family(c.category).color, rx: 2 }),
      s('text', { x: 18, y: y + 16, class: 'ch-label' }, clip(c.category, 26)),
      s('rect', { x: labelW, y, width: Math.max(c.bytes.old ? 1 : 0, ow).toFixed(1), height: 11, class: 'bar-old' }),
      s('rect', { x: labelW, y: y + 13, width: Math.max(c.bytes.new ? 1 : 0, nw).toFixed(1), height: 11, class: 'bar-new' }),
      s('text', { x: labelW + Math.max(ow, nw) + 8, y: y + 16, class: 'ch-value' }, `${size(c.bytes.old)} → ${size(c.bytes.new)}  (${signedSize(c.bytes.delta)})`)));
    y += 34;
  }
  const capId = uid('cat-cap');
  return h('figure', { class: 'chart-figure' },
    h('figcaption', { id: capId }, 'Shipped bytes per category that changed: old (upper, grey) and new (lower, blue).'),
    h('ul', { class: 'legend-inline' }, h('li', null, h('span', { class: 'sw sw-old' }), 'Old'), h('li', null, h('span', { class: 'sw sw-new' }), 'New')),
    s('svg', { viewBox: `0 0 ${W} ${y}`, class: 'chart', role: 'img', 'aria-labelledby': capId, id: 'diff-categories-chart' }, ...rows),
    h('details', { class: 'alt' }, h('summary', null, 'Show as table'),
      plainTable({
        id: 'diff-categories-table', caption: 'Categories that changed',
        head: ['Category', 'Old shipped', 'New shipped', 'Change', 'Visible change', 'Wasted change'], num: [1, 2, 3, 4, 5],
        rows: cats.map((c) => [visible(c.category), size(c.bytes.old), size(c.bytes.new), signedSize(c.bytes.delta), signedSize(c.content_bytes.delta), signedSize(c.wasted_bytes.delta)]),
      })));
}

function counts(rows) {
  const m = new Map();
  for (const r of rows) m.set(r.status, (m.get(r.status) || 0) + 1);
  return h('ul', { class: 'chips' }, Array.from(m, ([k, v]) => h('li', null, statusCell(k), ` ${int(v)}`)));
}

function rest(r, what) {
  if (!r || !r.rows) return null;
  return h('p', { class: 'muted' }, `${int(r.rows)} more ${what} changed by ${signedSize(r.delta)} in all and are not listed.`);
}

export function renderDiff(d, root) {
  const oldRef = d.old.reference || d.old.source;
  const newRef = d.new.reference || d.new.source;
  document.title = `imgsize diff: ${visible(oldRef)} → ${visible(newRef)}`;
  const stored = d.totals && d.totals.stored_bytes ? d.totals.stored_bytes : { old: 0, new: 0, delta: 0 };
  root.append(h('header', { class: 'page-head' },
    h('p', { class: 'eyebrow' }, 'imgsize diff'),
    h('h1', { id: 'image-ref' }, `${clip(oldRef, 60)} → ${clip(newRef, 60)}`),
    h('div', { class: 'sides' }, side('Old', d.old), h('div', { class: 'side-arrow', 'aria-hidden': 'true' }, '→'), side('New', d.new),
      h('div', { class: 'side side-delta' }, h('div', { class: 'card-label' }, 'Stored change'), h('div', { class: 'side-ref' }, delta(stored.delta))))));

  const main = h('main');
  root.append(main);
  main.append(section('diff-totals', 'Totals', null, totalsTable(d)));
  main.append(section('diff-categories', 'Categories', null, categoryBars(d)));

  const paths = d.paths || [];
  main.append(section('diff-paths', 'Paths that changed',
    d.paths_depth ? `Folders at depth ${d.paths_depth} (and files above it) whose visible bytes grew, shrank, appeared or disappeared.` : 'Paths were not compared (the two sides used different depths).',
    paths.length ? counts(paths) : null,
    sortableTable({
      id: 'diff-paths-table', caption: 'Path changes, biggest first', rows: paths, empty: 'No path changed.',
      sort: { key: 'abs', dir: 'descending' },
      columns: [
        { key: 'status', label: 'Change', value: (p) => p.status, cell: (p) => statusCell(p.status) },
        { key: 'path', label: 'Path', value: (p) => p.path, cell: (p) => h('code', null, visible(p.path)) },
        { key: 'old', label: 'Old', num: true, value: (p) => p.bytes.old, cell: (p) => size(p.bytes.old) },
        { key: 'new', label: 'New', num: true, value: (p) => p.bytes.new, cell: (p) => size(p.bytes.new) },
        { key: 'abs', label: 'Delta', num: true, value: (p) => Math.abs(p.bytes.delta), cell: (p) => delta(p.bytes.delta) },
      ],
    }), rest(d.paths_rest, 'paths')));

  const pkgs = d.packages || [];
  main.append(section('diff-packages', 'Packages that changed', null,
    pkgs.length ? counts(pkgs) : null,
    sortableTable({
      id: 'diff-packages-table', caption: 'Package changes, biggest first', rows: pkgs, empty: 'No package changed.',
      sort: { key: 'abs', dir: 'descending' },
      columns: [
        { key: 'status', label: 'Change', value: (p) => p.status, cell: (p) => statusCell(p.status) },
        { key: 'name', label: 'Package', value: (p) => p.name, cell: (p) => visible(p.name) },
        { key: 'manager', label: 'Manager', value: (p) => p.manager, cell: (p) => visible(p.manager) },
        { key: 'versions', label: 'Version', value: (p) => p.new_version || p.old_version, cell: (p) => (p.old_version === p.new_version ? visible(p.new_version || '-') : `${visible(p.old_version || '-')} → ${visible(p.new_version || '-')}`) },
        { key: 'abs', label: 'Delta', num: true, value: (p) => Math.abs(p.bytes.delta), cell: (p) => delta(p.bytes.delta) },
      ],
    }), rest(d.packages_rest, 'packages')));

  const fs = d.findings || [];
  main.append(section('diff-findings', 'Suggestions new and gone', null,
    sortableTable({
      id: 'diff-findings-table', caption: 'Findings one side has and the other does not', rows: fs, empty: 'The same suggestions on both sides.',
      columns: [
        { key: 'status', label: 'Status', value: (f) => f.status, cell: (f) => statusCell(f.status) },
        { key: 'rule', label: 'Rule', value: (f) => f.rule, cell: (f) => h('code', null, visible(f.rule)) },
        { key: 'scope', label: 'Scope', value: (f) => f.scope, cell: (f) => visible(f.scope || '-') },
        { key: 'instruction', label: 'Instruction', value: (f) => f.instruction, cell: (f) => h('code', null, clip(f.instruction || '-', 120)) },
        { key: 'bytes', label: 'Saves', num: true, value: (f) => f.bytes, cell: (f) => size(f.bytes) },
      ],
    })));

  const layers = d.layers || [];
  main.append(section('diff-layers', 'Layers matched', 'Every layer of the new image in order, then the old image\'s removed layers.',
    layers.length ? counts(layers) : null,
    plainTable({
      id: 'diff-layers-table', caption: 'Layers, old and new',
      head: ['Status', 'Old #', 'New #', 'Instruction', 'Shipped change', 'Compressed change'], num: [1, 2, 4, 5],
      rows: layers.map((l) => [statusCell(l.status), l.old_index === null ? '-' : String(l.old_index), l.new_index === null ? '-' : String(l.new_index),
        h('code', null, clip(l.instruction || '-', 120)), delta(l.added_bytes.delta), delta(l.compressed_bytes.delta)]),
    })));

  if ((d.notes || []).length) {
    main.append(section('diff-notes', 'Notes', null, h('ul', null, d.notes.map((n) => h('li', null, visible(n))))));
  }
  root.append(h('footer', { class: 'page-foot' },
    `Made by ${visible((d.tool && d.tool.name) || 'imgsize')} ${visible((d.tool && d.tool.version) || '')}. Sizes in decimal units; a change is new minus old.`));
  return { start: () => {} };
}
