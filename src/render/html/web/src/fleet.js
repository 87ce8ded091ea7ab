// The page for `imgsize fleet RECORDS --format html`: the fleet's headline, its totals
// over images and over distinct layers, the change since a baseline, and sortable
// tables of rules, fixes, shared layers, base families, images and errors.

import { h, s, uid, card, section } from './dom.js';
import { size, signedSize, int, signedInt, percent, visible, shortDigest } from './format.js';
import { sortableTable, filterableTable, plainTable } from './tables.js';

function delta(before, after, bytes = true) {
  const n = (Number(after) || 0) - (Number(before) || 0);
  const cls = n > 0 ? 'up' : n < 0 ? 'down' : 'same';
  return h('span', { class: `delta ${cls}` }, bytes ? signedSize(n) : signedInt(n));
}

const plural = (n, one, many) => `${int(n)} ${n === 1 ? one : many}`;

/** A digest cut to 12 hex digits, the whole one in its tooltip. */
function digestCell(d) {
  if (!d) return '-';
  return h('code', { class: 'nb', title: visible(d) }, shortDigest(d));
}

function header(f) {
  const t = f.totals || {};
  const families = (f.families || []).length;
  const facts = [
    ['Sources', (f.sources || []).map(visible).join(', ') || '-'],
    f.change ? ['Baseline', `${plural(f.change.before.images, 'image', 'images')} before`] : null,
  ].filter(Boolean);
  const problems = t.errors || t.incomplete
    ? h('div', { class: 'box box-problem', id: 'fleet-problems' },
      h('strong', null, 'Not every image was read in full.'),
      h('ul', null,
        t.errors ? h('li', null, `${plural(t.errors, 'image', 'images')} could not be read (listed under Errors) and ${t.errors === 1 ? 'is' : 'are'} in no figure.`) : null,
        t.incomplete ? h('li', null, `${plural(t.incomplete, 'image was', 'images were')} read with some layer missing: ${t.incomplete === 1 ? 'its' : 'their'} figures are partial.`) : null))
    : null;
  return h('header', { class: 'page-head' },
    h('p', { class: 'eyebrow' }, 'imgsize fleet'),
    h('h1', { id: 'fleet-title' }, `Fleet of ${plural(t.images, 'image', 'images')}`),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v)))),
    h('div', { class: 'cards', id: 'fleet-headline' },
      card('Images', int(t.images), 'distinct, by digest'),
      card('Names', int(t.names), t.names !== t.images ? 'several names of one image count once in images' : 'one name per image'),
      card('Base families', int(families), 'images grouped by their base image'),
      card('Errors', int(t.errors), t.incomplete ? `${int(t.incomplete)} more read incompletely` : 'images that could not be read', t.errors || t.incomplete ? 'warn' : null),
      card('Stored, layers once', size(t.distinct_stored_bytes), `${size(t.stored_bytes)} over images`),
      card('Saved by sharing', percent(t.stored_bytes - t.distinct_stored_bytes, t.stored_bytes), 'of stored bytes, layers shared between images counted once', 'good')),
    problems);
}

const TOTAL_ROWS = [
  ['Layers', 'layers', 'distinct_layers', false],
  ['Compressed (pulled, stored by a registry)', 'compressed_bytes', 'distinct_compressed_bytes', true],
  ['Stored (on a node\'s disk)', 'stored_bytes', 'distinct_stored_bytes', true],
];

/** Over images against over distinct layers, for the compressed and stored bytes. */
function sharingChart(t) {
  const W = 1000;
  const ROW = 24;
  const labelW = 230;
  const barX = labelW + 10;
  const barW = W - barX - 200;
  const max = Math.max(1, t.compressed_bytes || 0, t.stored_bytes || 0);
  const rows = [];
  let y = 4;
  for (const [label, over, distinct] of TOTAL_ROWS.filter((r) => r[3])) {
    rows.push(s('text', { x: 0, y: y + 15, class: 'ch-group' }, label.replace(/ \(.*/, '')));
    y += ROW;
    for (const [name, key, cls] of [['over images', over, 'bar-old'], ['over distinct layers', distinct, 'bar-new']]) {
      const v = t[key] || 0;
      const w = (v / max) * barW;
      rows.push(s('g', { class: 'ch-row' },
        s('text', { x: 8, y: y + 15, class: 'ch-label' }, name),
        s('rect', { x: barX, y: y + 4, width: Math.max(w, v ? 1 : 0).toFixed(1), height: ROW - 8, class: cls }),
        s('text', { x: (barX + w + 6).toFixed(1), y: y + 15, class: 'ch-value' }, size(v))));
      y += ROW;
    }
    y += 8;
  }
  const capId = uid('sharing-cap');
  return h('figure', { class: 'chart-figure' },
    h('figcaption', { id: capId }, `Each image pulled alone downloads ${size(t.compressed_bytes)}; a registry, or a node holding every image, keeps each layer once: ${size(t.distinct_compressed_bytes)}. Bars are to scale.`),
    h('ul', { class: 'legend-inline' },
      h('li', null, h('span', { class: 'sw sw-old' }), 'summed over images'),
      h('li', null, h('span', { class: 'sw sw-new' }), 'each distinct layer once')),
    s('svg', { viewBox: `0 0 ${W} ${y}`, class: 'chart', role: 'img', 'aria-labelledby': capId, id: 'fleet-sharing-chart' }, ...rows));
}

function totalsSection(t) {
  const table = plainTable({
    id: 'fleet-totals-table',
    caption: 'Totals over images and over distinct layers',
    head: ['Figure', 'Over images', 'Over distinct layers', 'Saved by sharing'],
    num: [1, 2, 3],
    rows: TOTAL_ROWS.map(([label, over, distinct, bytes]) => {
      const show = bytes ? size : int;
      return [label, show(t[over]), show(t[distinct]), percent((t[over] || 0) - (t[distinct] || 0), t[over])];
    }).concat([['Wasted (hidden by later layers)', size(t.wasted_bytes), '-', '-']]),
  });
  return section('fleet-totals', 'Totals',
    'Over images: each image as if pulled alone, the sum of its figures. Over distinct layers: each layer once, by digest, however many images list it: what a registry stores and what a node holding every image pulls.',
    sharingChart(t), table);
}

const CHANGE_ROWS = [
  ['Images', 'images', false], ['Names', 'names', false], ['Errors', 'errors', false],
  ['Distinct layers', 'distinct_layers', false],
  ['Stored over distinct layers', 'distinct_stored_bytes', true], ['Stored over images', 'stored_bytes', true],
  ['Compressed over distinct layers', 'distinct_compressed_bytes', true], ['Compressed over images', 'compressed_bytes', true],
  ['Wasted over images', 'wasted_bytes', true],
];

function nameList(id, title, names) {
  if (!names.length) return null;
  return h('details', { class: 'alt name-list', id, open: names.length <= 20 },
    h('summary', null, `${title}: ${int(names.length)}`),
    h('ul', null, names.map((n) => h('li', null, h('code', null, visible(n))))));
}

function changeSection(c, now) {
  const b = c.before || {};
  const totals = plainTable({
    id: 'fleet-change-table',
    caption: 'The baseline and now',
    head: ['Figure', 'Before', 'Now', 'Change'],
    num: [1, 2, 3],
    rows: CHANGE_ROWS.map(([label, key, bytes]) => [label, (bytes ? size : int)(b[key]), (bytes ? size : int)(now[key]), delta(b[key], now[key], bytes)]),
  });
  const byChange = [
    { key: 'before_bytes', label: 'Before', num: true, value: (r) => r.before_bytes, cell: (r) => size(r.before_bytes) },
    { key: 'after_bytes', label: 'Now', num: true, value: (r) => r.after_bytes, cell: (r) => size(r.after_bytes) },
    { key: 'change', label: 'Change', num: true, value: (r) => r.after_bytes - r.before_bytes, cell: (r) => delta(r.before_bytes, r.after_bytes) },
  ];
  return section('fleet-change', 'Change since the baseline', null, totals,
    nameList('fleet-added', 'Names added', c.added || []),
    nameList('fleet-removed', 'Names removed', c.removed || []),
    h('h3', null, 'Images that changed'),
    sortableTable({
      id: 'fleet-changed-table', caption: 'Names in both whose stored bytes changed, most grown first', rows: c.changed || [],
      empty: 'No image present in both changed its stored bytes.', sort: { key: 'change', dir: 'descending' },
      columns: [{ key: 'name', label: 'Image', value: (r) => r.name, cell: (r) => visible(r.name) }, ...byChange],
    }),
    h('h3', null, 'Rules that changed'),
    sortableTable({
      id: 'fleet-rule-changes-table', caption: 'Bytes each rule would save, summed over images', rows: c.rules || [],
      empty: 'Every rule would save what it did.',
      columns: [{ key: 'rule', label: 'Rule', value: (r) => r.rule, cell: (r) => h('code', { class: 'nb' }, visible(r.rule)) }, ...byChange],
    }));
}

function rulesTable(f) {
  return sortableTable({
    id: 'fleet-rules-table', caption: 'Each rule across the fleet', rows: f.rules || [],
    empty: 'No rule found anything to remove.', sort: { key: 'summed_bytes', dir: 'descending' },
    columns: [
      { key: 'rule', label: 'Rule', value: (r) => r.rule, cell: (r) => h('code', { class: 'nb' }, visible(r.rule)) },
      { key: 'images', label: 'Images', num: true, value: (r) => r.images, cell: (r) => int(r.images) },
      { key: 'fixes', label: 'Fixes', num: true, value: (r) => r.fixes, cell: (r) => int(r.fixes) },
      { key: 'bytes', label: 'Saves, layers once', num: true, value: (r) => r.bytes, cell: (r) => size(r.bytes) },
      { key: 'summed_bytes', label: 'Saves over images', num: true, value: (r) => r.summed_bytes, cell: (r) => size(r.summed_bytes) },
      { key: 'summed_compressed_bytes', label: 'Pull saving', num: true, value: (r) => r.summed_compressed_bytes, cell: (r) => size(r.summed_compressed_bytes) },
      { key: 'base_bytes', label: 'Of which base', num: true, value: (r) => r.base_bytes, cell: (r) => size(r.base_bytes) },
    ],
  });
}

function fixesTable(f) {
  return sortableTable({
    id: 'fleet-fixes-table', caption: 'The biggest single fixes, a shared layer once', rows: f.fixes || [],
    empty: 'Nothing to fix.', sort: { key: 'summed_bytes', dir: 'descending' },
    columns: [
      { key: 'rule', label: 'Rule', value: (x) => x.rule, cell: (x) => h('code', { class: 'nb' }, visible(x.rule)) },
      { key: 'scope', label: 'Scope', value: (x) => x.scope, cell: (x) => visible(x.scope) },
      { key: 'layer', label: 'Layer', value: (x) => x.layer_digest, cell: (x) => digestCell(x.layer_digest) },
      { key: 'images', label: 'Images', num: true, value: (x) => x.images, cell: (x) => int(x.images) },
      { key: 'bytes', label: 'Saves once', num: true, value: (x) => x.bytes, cell: (x) => size(x.bytes) },
      { key: 'summed_bytes', label: 'Saves over images', num: true, value: (x) => x.summed_bytes, cell: (x) => size(x.summed_bytes) },
      { key: 'summed_compressed_bytes', label: 'Pull saving', num: true, value: (x) => x.summed_compressed_bytes, cell: (x) => size(x.summed_compressed_bytes) },
      { key: 'where', label: 'Family or image', value: (x) => x.family || x.example, cell: (x) => visible(x.family || x.example) },
    ],
  });
}

function sharedTable(f) {
  return sortableTable({
    id: 'fleet-shared-table', caption: 'Layers two or more images list, by bytes pulled', rows: f.shared_layers || [],
    empty: 'No layer is shared: every image has layers of its own only.', sort: { key: 'pulled_bytes', dir: 'descending' },
    columns: [
      { key: 'digest', label: 'Layer', value: (l) => l.digest, cell: (l) => digestCell(l.digest) },
      { key: 'images', label: 'Images', num: true, value: (l) => l.images, cell: (l) => int(l.images) },
      { key: 'compressed_bytes', label: 'Compressed', num: true, value: (l) => l.compressed_bytes, cell: (l) => size(l.compressed_bytes) },
      { key: 'added_bytes', label: 'Stored', num: true, value: (l) => l.added_bytes, cell: (l) => size(l.added_bytes) },
      { key: 'pulled_bytes', label: 'Pulled', num: true, value: (l) => l.pulled_bytes, cell: (l) => size(l.pulled_bytes) },
      { key: 'family', label: 'Family', value: (l) => l.family, cell: (l) => visible(l.family || '-') },
      { key: 'example', label: 'For example', value: (l) => l.example, cell: (l) => visible(l.example) },
    ],
  });
}

function familiesTable(f) {
  return sortableTable({
    id: 'fleet-families-table', caption: 'Images grouped by their base image', rows: f.families || [],
    empty: 'No image was read.', sort: { key: 'stored_bytes', dir: 'descending' },
    columns: [
      { key: 'name', label: 'Family', value: (x) => x.name, cell: (x) => visible(x.name) },
      { key: 'images', label: 'Images', num: true, value: (x) => x.images, cell: (x) => int(x.images) },
      { key: 'base_layers', label: 'Base layers', num: true, value: (x) => x.base_layers, cell: (x) => int(x.base_layers) },
      { key: 'base_compressed_bytes', label: 'Base compressed', num: true, value: (x) => x.base_compressed_bytes, cell: (x) => size(x.base_compressed_bytes) },
      { key: 'base_stored_bytes', label: 'Base stored', num: true, value: (x) => x.base_stored_bytes, cell: (x) => size(x.base_stored_bytes) },
      { key: 'stored_bytes', label: 'Images stored', num: true, value: (x) => x.stored_bytes, cell: (x) => size(x.stored_bytes) },
      { key: 'base_findings_bytes', label: 'Base findings', num: true, value: (x) => x.base_findings_bytes, cell: (x) => size(x.base_findings_bytes) },
    ],
  });
}

function imageNames(i) {
  return h('span', null, (i.names || []).map(visible).join(', '),
    i.complete === false ? [' ', h('span', { class: 'status st-grew' }, 'incomplete')] : null);
}

/** Every image, sortable, with a filter on names, family, platform and digest. */
function imagesSection(f) {
  const rows = f.images || [];
  const table = filterableTable({
    id: 'fleet-images-table', caption: 'Every image, most stored bytes first', rows,
    empty: 'No image was read.', sort: { key: 'stored_bytes', dir: 'descending' },
    columns: [
      { key: 'names', label: 'Image', value: (i) => (i.names || []).join(', '), cell: imageNames },
      { key: 'family', label: 'Family', value: (i) => i.family, cell: (i) => visible(i.family) },
      { key: 'platform', label: 'Platform', value: (i) => i.platform, cell: (i) => visible(i.platform || '-') },
      { key: 'layers', label: 'Layers', num: true, value: (i) => i.layers, cell: (i) => int(i.layers) },
      { key: 'compressed_bytes', label: 'Compressed', num: true, value: (i) => i.compressed_bytes, cell: (i) => size(i.compressed_bytes) },
      { key: 'stored_bytes', label: 'Stored', num: true, value: (i) => i.stored_bytes, cell: (i) => size(i.stored_bytes) },
      { key: 'wasted_bytes', label: 'Wasted', num: true, value: (i) => i.wasted_bytes, cell: (i) => size(i.wasted_bytes) },
      { key: 'own_bytes', label: 'Own bytes', num: true, value: (i) => i.own_bytes, cell: (i) => size(i.own_bytes) },
    ],
  });
  const inputId = 'fleet-image-filter';
  const status = h('p', { class: 'search-status', id: 'fleet-image-status', role: 'status', 'aria-live': 'polite' }, `${plural(rows.length, 'image', 'images')}.`);
  const input = h('input', { type: 'search', id: inputId, autocomplete: 'off', spellcheck: 'false', placeholder: 'name, family, platform or digest', 'aria-controls': 'fleet-images-table' });
  const haystack = new Map(rows.map((i) => [i, [...(i.names || []), i.family, i.platform, i.digest].filter(Boolean).join('\n').toLowerCase()]));
  input.addEventListener('input', () => {
    const q = input.value.trim().toLowerCase();
    const shown = table.filter(q ? (i) => haystack.get(i).includes(q) : null);
    status.textContent = q ? `${int(shown)} of ${plural(rows.length, 'image', 'images')} match.` : `${plural(rows.length, 'image', 'images')}.`;
  });
  const search = h('div', { class: 'search' }, h('label', { for: inputId }, 'Filter images'), input, status);
  return section('fleet-images', 'Images', 'Own bytes: what an image stores in its own layers, above its base image.', search, table.element);
}

function errorsSection(f) {
  const errors = f.errors || [];
  return section('fleet-errors', 'Errors', null, sortableTable({
    id: 'fleet-errors-table', caption: 'Images that could not be read', rows: errors,
    empty: 'Every image was read.', sort: { key: 'name', dir: 'ascending' },
    columns: [
      { key: 'name', label: 'Image', value: (e) => e.name, cell: (e) => visible(e.name) },
      { key: 'error', label: 'Error', value: (e) => e.error, cell: (e) => visible(e.error) },
    ],
  }));
}

export function renderFleet(f, root) {
  const t = f.totals || {};
  document.title = `imgsize: fleet of ${plural(t.images, 'image', 'images')}`;
  root.append(header(f));
  const main = h('main');
  root.append(main);
  main.append(totalsSection(t));
  if (f.change) main.append(changeSection(f.change, t));
  main.append(section('fleet-rules', 'Rules',
    'What each rule would save across the fleet. Layers once: a fix on a layer several images share counts once, as a registry stores it. Over images: summed image by image, as nodes store them.',
    rulesTable(f)));
  main.append(section('fleet-fixes', 'Biggest fixes',
    'A fix is one rule on one layer (multi-stage and full-base: one per image); fixing a shared layer shrinks every image that lists it. "Saves once" is the largest saving any of those images reports.',
    fixesTable(f)));
  main.append(section('fleet-shared', 'Shared layers', 'Pulled: the layer\'s compressed bytes times the images that list it, what pulling each image alone downloads of it.', sharedTable(f)));
  main.append(section('fleet-families', 'Base families', 'Base layers count once per family; images stored sums the family\'s images.', familiesTable(f)));
  main.append(imagesSection(f));
  main.append(errorsSection(f));
  root.append(h('footer', { class: 'page-foot' },
    `Made by ${visible((f.tool && f.tool.name) || 'imgsize')} ${visible((f.tool && f.tool.version) || '')}. Sizes in decimal units (1 MB = 1,000,000 bytes). The same figures: imgsize fleet --format json.`));
  return { start: () => {} };
}
