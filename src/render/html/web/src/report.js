// The page for `imgsize report --format html`.

import { h, card, section } from './dom.js';
import { size, int, percent, visible, clip, instruction, shortDigest } from './format.js';
import { family } from './colors.js';
import { createTreemap } from './treemap.js';
import { createSearch } from './search.js';
import { layerTimeline, waterfall } from './charts.js';
import { sortableTable } from './tables.js';
import { createChanges } from './changes.js';

function header(r) {
  const img = r.image || {};
  const t = r.totals || {};
  const ref = img.reference || (img.tags && img.tags[0]) || img.source || 'image';
  const platform = [img.os, img.architecture, img.variant].filter(Boolean).map(visible).join('/');
  const facts = [
    ['Source', visible(img.source)],
    ['Format', visible(img.format) + (img.outer_compression ? ` (${visible(img.outer_compression)})` : '')],
    platform ? ['Platform', platform] : null,
    img.created ? ['Created', visible(img.created)] : null,
    img.config_digest ? ['Config', shortDigest(img.config_digest)] : null,
    img.tags && img.tags.length > 1 ? ['Tags', img.tags.map(visible).join(', ')] : null,
  ].filter(Boolean);
  const proj = r.projected || { saved_bytes: 0, stored_bytes: t.stored_bytes };
  const base = r.base || {};
  if (r.manifest_only) {
    // Only the manifest was read: the figures that need the layers are unknown, not 0.
    const unknown = 'needs the layers (run without --manifest-only)';
    return h('header', { class: 'page-head' },
      h('p', { class: 'eyebrow' }, 'imgsize report (manifest only)'),
      h('h1', { id: 'image-ref' }, visible(ref)),
      h('dl', { class: 'facts' }, facts.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v)))),
      h('div', { class: 'cards', id: 'totals' },
        card('Compressed', size(t.compressed_bytes), 'what a pull downloads'),
        card('Layers', int(t.layers), base.layers ? `${int(base.layers)} from the base image` : 'no base image recognised'),
        card('Content', '–', unknown),
        card('Wasted', '–', unknown)));
  }
  const cards = h('div', { class: 'cards', id: 'totals' },
    card('Content', size(t.content_bytes), 'visible in a container'),
    card('Wasted', size(t.wasted_bytes), `${percent(t.wasted_bytes, t.stored_bytes)} of stored, hidden by later layers`, t.wasted_bytes > 0 ? 'warn' : null),
    card('Stored', size(t.stored_bytes), 'file content in all layers'),
    card('Compressed', size(t.compressed_bytes), 'what a pull downloads'),
    card('Files', int(t.files), `${int(t.dirs)} folders, ${int(t.symlinks)} symlinks`),
    card('Layers', int(t.layers), base.layers ? `${int(base.layers)} from the base image` : 'no base image recognised'));
  const levers = h('div', { class: 'cards levers', id: 'projections', 'aria-label': 'Projected sizes' }, ...projectionCards(proj, t));
  const problems = (r.problems || []).length
    ? h('div', { class: 'box box-problem', role: 'alert', id: 'problems' },
      h('strong', null, 'Incomplete: some layers could not be read, so these figures are partial.'),
      h('ul', null, r.problems.map((p) => h('li', null, visible(p)))))
    : null;
  const notes = (r.notes || []).length
    ? h('div', { class: 'box box-note', id: 'notes' }, h('strong', null, 'Notes'), h('ul', null, r.notes.map((p) => h('li', null, visible(p)))))
    : null;
  return h('header', { class: 'page-head' },
    h('p', { class: 'eyebrow' }, 'imgsize report'),
    h('h1', { id: 'image-ref' }, visible(ref)),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v)))),
    cards, levers, problems, notes);
}

// The two headline projections: every edit of your RUN/COPY lines, and the structural
// change (a multi-stage build, or the base's slim variant) alone.
function projectionCards(proj, t) {
  const fixes = proj.fixes || { saved_bytes: proj.saved_bytes, stored_bytes: proj.stored_bytes };
  const out = [card('After your fixes', size(fixes.stored_bytes),
    fixes.saved_bytes ? `saves ${size(fixes.saved_bytes)} (${percent(fixes.saved_bytes, t.stored_bytes)}) by editing your RUN/COPY lines` : 'nothing to fix in your RUN/COPY lines',
    fixes.saved_bytes ? 'good' : null)];
  const s = proj.structural;
  if (s) {
    const multi = s.rule === 'multi-stage';
    const from = s.runtime_base ? visible(s.runtime_base) : (s.slim_base ? "the base's slim variant" : 'the same base, without the build tools');
    out.push(card(multi ? 'With a multi-stage build' : 'With a slim base', size(s.stored_bytes),
      `saves ${size(s.saved_bytes)} (${percent(s.saved_bytes, t.stored_bytes)}): ${multi ? `a runtime stage on ${from}` : from}`, 'good'));
  }
  return out;
}

function findingsList(r) {
  const fs = r.findings || [];
  if (!fs.length) return h('p', { class: 'muted' }, 'No suggestions: imgsize found nothing to remove.');
  const ol = h('ol', { class: 'findings', id: 'findings' });
  for (const f of fs) {
    const where = f.layer !== null && f.layer !== undefined ? `layer ${f.layer}` : 'no layer';
    const paths = (f.paths || []).map((p) => h('li', null, h('code', null, visible(p.path)), ` ${size(p.bytes)}`));
    const more = (f.path_count || 0) - (f.paths || []).length;
    ol.append(h('li', { class: `finding scope-${f.scope === 'base' ? 'base' : 'yours'}`, 'data-rule': f.rule },
      h('details', null,
        h('summary', null,
          h('span', { class: 'f-title' }, visible(f.title || f.rule)),
          h('span', { class: 'f-save' }, `saves ${size(f.incremental_bytes)}`),
          h('span', { class: 'f-meta' }, `${f.scope === 'base' ? 'base image, ' : ''}${where}, ${visible(f.confidence || '')} confidence`)),
        h('div', { class: 'f-body' },
          h('p', null, h('strong', null, 'Fix: '), visible(f.fix || '-')),
          h('p', null, h('strong', null, 'Instruction: '), h('code', null, clip(f.instruction || instruction(f.created_by) || '-', 300))),
          h('p', null, `This fix alone saves ${size(f.bytes)}; after the suggestions above it, ${size(f.incremental_bytes)}. Estimated pull saving ${size(f.compressed_bytes)}. Rule `, h('code', null, visible(f.rule)), '.'),
          paths.length ? [h('p', null, h('strong', null, 'Covers: ')), h('ul', { class: 'f-paths' }, paths, more > 0 ? h('li', { class: 'muted' }, `and ${int(more)} more ${more === 1 ? 'path' : 'paths'}`) : null)] : null))));
  }
  return ol;
}

function categoryTable(r) {
  const rows = r.categories || [];
  const stored = r.totals.stored_bytes;
  return sortableTable({
    id: 'categories-table',
    caption: 'Shipped bytes by category (visible + wasted)',
    sort: { key: 'bytes', dir: 'descending' },
    rows,
    columns: [
      { key: 'category', label: 'Category', value: (c) => c.category, cell: (c) => visible(c.category) },
      { key: 'family', label: 'Group', value: (c) => family(c.category).name, cell: (c) => h('span', null, h('span', { class: 'sw', style: `background:${family(c.category).color}` }), family(c.category).name) },
      { key: 'bytes', label: 'Shipped', num: true, value: (c) => c.bytes, cell: (c) => size(c.bytes) },
      { key: 'content_bytes', label: 'Visible', num: true, value: (c) => c.content_bytes, cell: (c) => size(c.content_bytes) },
      { key: 'wasted_bytes', label: 'Wasted', num: true, value: (c) => c.wasted_bytes, cell: (c) => size(c.wasted_bytes) },
      { key: 'files', label: 'Files', num: true, value: (c) => c.files, cell: (c) => int(c.files) },
      { key: 'share', label: 'Share', num: true, value: (c) => c.bytes, cell: (c) => percent(c.bytes, stored) },
    ],
  });
}

function packageTable(r) {
  const rows = r.packages || [];
  return sortableTable({
    id: 'packages-table',
    caption: 'Installed packages by visible bytes',
    sort: { key: 'bytes', dir: 'descending' },
    rows,
    empty: 'No package database found.',
    columns: [
      { key: 'name', label: 'Package', value: (p) => p.name, cell: (p) => visible(p.name) },
      { key: 'version', label: 'Version', value: (p) => p.version, cell: (p) => visible(p.version || '-') },
      { key: 'manager', label: 'Manager', value: (p) => p.manager, cell: (p) => visible(p.manager) },
      { key: 'bytes', label: 'Size', num: true, value: (p) => p.bytes, cell: (p) => size(p.bytes) },
      { key: 'files', label: 'Files', num: true, value: (p) => p.files, cell: (p) => int(p.files) },
      { key: 'layer', label: 'Layer', num: true, value: (p) => p.layer, cell: (p) => (p.layer === null || p.layer === undefined ? '-' : String(p.layer)) },
      { key: 'scope', label: 'Scope', value: (p) => p.scope, cell: (p) => p.scope || '-' },
      { key: 'build_only', label: 'Build only', value: (p) => (p.build_only ? 'yes' : p.build_closure ? 'closure' : 'no'), cell: (p) => (p.build_only ? 'yes' : p.build_closure ? 'removable' : '') },
    ],
  });
}

function wasteTable(r) {
  return sortableTable({
    id: 'waste-table',
    caption: 'Hidden bytes by where they were last visible',
    sort: { key: 'bytes', dir: 'descending' },
    rows: r.waste || [],
    empty: 'Nothing is hidden: no layer overwrites or deletes what an earlier one shipped.',
    columns: [
      { key: 'path', label: 'Path', value: (w) => w.path, cell: (w) => h('code', null, visible(w.path)) },
      { key: 'bytes', label: 'Hidden', num: true, value: (w) => w.bytes, cell: (w) => size(w.bytes) },
      { key: 'files', label: 'Files', num: true, value: (w) => w.files, cell: (w) => int(w.files) },
      { key: 'added_in_layer', label: 'Shipped by', num: true, value: (w) => w.added_in_layer, cell: (w) => `layer ${w.added_in_layer}` },
      { key: 'removed_by_layer', label: 'Hidden by', num: true, value: (w) => w.removed_by_layer, cell: (w) => `layer ${w.removed_by_layer}` },
      { key: 'cause', label: 'How', value: (w) => w.cause, cell: (w) => visible(w.cause).replace('_', ' ') },
    ],
  });
}

function restNote(rest, what) {
  if (!rest || !rest.rows) return null;
  return h('p', { class: 'muted' }, `${int(rest.rows)} more ${what} (${size(rest.bytes)}) are not listed.`);
}

export function renderReport(r, root) {
  const t = r.totals || {};
  document.title = `imgsize: ${visible((r.image && (r.image.reference || r.image.source)) || 'report')}`;
  root.append(header(r));

  const main = h('main');
  root.append(main);

  let treemap = null;
  if (r.manifest_only) {
    main.append(section('filesystem', 'Where the bytes are', null,
      h('p', { class: 'muted' }, 'Only the manifest and config were read (--manifest-only): the layers list their compressed sizes, and the filesystem, waste, categories, packages and suggestions need the layers themselves.')));
  } else if (r.tree && r.tree.root && !r.tree.root.bytes) {
    main.append(section('filesystem', 'Where the bytes are', null,
      h('p', { class: 'muted' }, 'The final filesystem holds no file content.')));
  } else if (r.tree && r.tree.root) {
    treemap = createTreemap(r);
    const search = createSearch(treemap, r.tree);
    main.append(section('filesystem', 'Where the bytes are',
      'Each box is a file or folder of the final filesystem, its area the bytes it holds. Click a folder (or press Enter) to open it; Backspace or Escape goes back up.',
      search.element, treemap.element));
  } else {
    main.append(section('filesystem', 'Where the bytes are', null,
      h('p', { class: 'muted' }, 'This report holds no filesystem tree.')));
  }

  const changes = r.layer_changes && !r.manifest_only ? createChanges(r) : null;
  main.append(section('layers', 'Layers', null,
    layerTimeline(r, changes ? (i) => changes.show(i) : null), changes && changes.element));
  main.append(section('suggestions', 'Suggestions', null, waterfall(r), findingsList(r),
    r.build_only && r.build_only.closure_bytes
      ? h('p', { class: 'muted' }, `Build-only packages (compilers, -dev packages) hold ${size(r.build_only.bytes)}; purging them with what depends on them would remove ${size(r.build_only.closure_bytes)} (${int((r.build_only.closure || []).length)} packages).`)
      : null));
  main.append(section('categories', 'Categories', `What kind of files ship the ${size(t.stored_bytes)} stored.`, categoryTable(r), restNote(r.categories_rest, 'categories')));
  main.append(section('packages', 'Packages', null, packageTable(r), restNote(r.packages_rest, 'packages')));
  main.append(section('waste', 'Wasted bytes', `Bytes shipped by one layer and hidden by a later one: ${size(t.wasted_bytes)} in all.`, wasteTable(r), restNote(r.waste_rest, 'rows')));

  root.append(h('footer', { class: 'page-foot' },
    `Made by ${visible((r.tool && r.tool.name) || 'imgsize')} ${visible((r.tool && r.tool.version) || '')}. Sizes in decimal units (1 MB = 1,000,000 bytes). The same figures: imgsize report --format json.`));
  return { start: () => { if (treemap) treemap.start(); } };
}
