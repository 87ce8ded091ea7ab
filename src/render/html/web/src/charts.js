// The layer timeline and the suggestions waterfall, drawn in SVG, each with an
// equivalent table behind a "Show as table" toggle.

import { h, s, uid } from './dom.js';
import { size, int, clip, visible, instruction, percent } from './format.js';
import { plainTable } from './tables.js';

const W = 1000;
const ROW = 24;
const CH = 6.4;

function hatch(id, color, bg) {
  return s('pattern', { id, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
    s('rect', { width: 6, height: 6, fill: bg }),
    s('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: color, 'stroke-width': 3 }));
}

function legendItems(items) {
  return h('ul', { class: 'legend-inline' }, items.map(([cls, text]) => h('li', null, h('span', { class: `sw ${cls}` }), text)));
}

/** One bar per real layer: visible content, then the part hidden later. With
 * `onSelect`, each layer's row is a button (click, Enter or Space) that selects it. */
export function layerTimeline(report, onSelect) {
  // With --manifest-only only the compressed sizes are known: the bars show those.
  const real = (report.layers || []).filter((l) => !l.empty_layer && l.index !== null)
    .map((l) => (report.manifest_only
      ? { ...l, added_bytes: l.compressed_bytes, content_bytes: l.compressed_bytes, wasted_bytes: 0 }
      : l));
  const meta = (report.layers || []).filter((l) => l.empty_layer || l.index === null);
  const groups = [
    { name: 'Base image', rows: real.filter((l) => l.scope === 'base') },
    { name: 'Your layers', rows: real.filter((l) => l.scope !== 'base') },
  ].filter((g) => g.rows.length);
  const max = Math.max(1, ...real.map((l) => l.added_bytes || 0));
  const labelW = 430;
  const barX = labelW + 10;
  const barW = W - barX - 170;
  let y = 4;
  const rowsSvg = [];
  for (const g of groups) {
    const sum = g.rows.reduce((a, l) => a + (l.added_bytes || 0), 0);
    const top = y;
    rowsSvg.push(s('text', { x: 0, y: y + 15, class: 'ch-group' }, `${g.name}: ${g.rows.length} ${g.rows.length === 1 ? 'layer' : 'layers'}, ${size(sum)}`));
    y += 24;
    for (const l of g.rows) {
      const ins = instruction(l.created_by) || '(no instruction recorded)';
      const label = `${l.index}  ${clip(ins, Math.floor((labelW - 10) / CH) - 4)}`;
      const cw = ((l.content_bytes || 0) / max) * barW;
      const ww = ((l.wasted_bytes || 0) / max) * barW;
      const base = g.name === 'Base image';
      const row = s('g', { class: `ch-row${onSelect ? ' ch-pick' : ''}`, 'data-layer': l.index },
        s('title', null, `Layer ${l.index}: ${visible(ins)}\n${size(l.content_bytes)} still visible, ${size(l.wasted_bytes)} hidden later`),
        s('text', { x: 8, y: y + 15, class: 'ch-label' }, label),
        s('rect', { x: barX, y: y + 4, width: Math.max(cw, l.content_bytes ? 1 : 0).toFixed(1), height: ROW - 8, class: base ? 'bar-base' : 'bar-content' }),
        s('rect', { x: (barX + cw).toFixed(1), y: y + 4, width: Math.max(ww, l.wasted_bytes ? 1 : 0).toFixed(1), height: ROW - 8, fill: 'url(#ch-waste)', class: 'bar-waste' }),
        s('text', { x: (barX + cw + ww + 6).toFixed(1), y: y + 15, class: 'ch-value' },
          size(l.added_bytes) + (l.wasted_bytes ? `  (${size(l.wasted_bytes)} hidden)` : '')));
      if (onSelect) pickable(row, l, `Layer ${l.index}: ${clip(ins, 80)}. ${size(l.added_bytes)} shipped, ${size(l.wasted_bytes)} hidden later. Show its changes`, y, onSelect);
      rowsSvg.push(row);
      y += ROW;
    }
    rowsSvg.unshift(s('rect', { x: 0, y: top, width: W, height: y - top + 2, class: base(g) ? 'ch-band-base' : 'ch-band' }));
    y += 10;
  }
  function base(g) { return g.name === 'Base image'; }
  const capId = uid('layers-cap');
  const svg = s('svg', { viewBox: `0 0 ${W} ${y}`, class: 'chart', role: onSelect ? 'group' : 'img', 'aria-labelledby': capId, id: 'layers-chart' },
    s('defs', null, hatch('ch-waste', '#D55E00', '#f6d9c8')), ...rowsSvg);
  const table = plainTable({
    id: 'layers-table',
    caption: 'Layers, bottom first',
    head: ['Layer', 'Scope', 'Instruction', 'Shipped', 'Still visible', 'Hidden later', 'Compressed', 'Files'],
    num: [0, 3, 4, 5, 6, 7],
    rows: real.map((l) => [String(l.index), l.scope || '-', clip(instruction(l.created_by) || '-', 160),
      size(l.added_bytes), size(l.content_bytes), size(l.wasted_bytes), size(l.compressed_bytes), int(l.files)]),
  });
  const metaNote = meta.length
    ? h('details', { class: 'alt' }, h('summary', null, `${meta.length} metadata-only ${meta.length === 1 ? 'step' : 'steps'} (no files) not drawn`),
      h('ul', { class: 'meta-steps' }, meta.map((l) => h('li', null, h('code', null, clip(instruction(l.created_by) || '-', 140))))))
    : null;
  return h('figure', { class: 'chart-figure' },
    h('figcaption', { id: capId }, report.manifest_only
      ? `The compressed size of each of the ${real.length} layers (only the manifest was read). Bars are to scale; the biggest layer is ${size(max)}.`
      : `What each of the ${real.length} layers ships: bytes still visible in the final image, and bytes a later layer hides (waste). Bars are to scale; the biggest layer ships ${size(max)}.`),
    legendItems(report.manifest_only
      ? [['sw-content', 'Compressed (your layers)'], ['sw-base', 'Compressed (base image)']]
      : [['sw-content', 'Still visible (your layers)'], ['sw-base', 'Still visible (base image)'], ['sw-waste', 'Hidden later (wasted)']]),
    svg,
    h('details', { class: 'alt' }, h('summary', null, 'Show as table'), table),
    metaNote);
}

// A layer's row as a toggle button: focusable, selected by click, Enter or Space, one
// pressed at a time.
function pickable(row, l, label, y, onSelect) {
  row.setAttribute('tabindex', '0');
  row.setAttribute('role', 'button');
  row.setAttribute('aria-pressed', 'false');
  row.setAttribute('aria-label', label);
  row.prepend(s('rect', { x: 0, y, width: W, height: ROW, class: 'ch-hit' }));
  const pick = () => {
    for (const r of row.ownerSVGElement.querySelectorAll('.ch-pick')) r.setAttribute('aria-pressed', String(r === row));
    onSelect(l.index);
  };
  row.addEventListener('click', pick);
  row.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); }
  });
}

/** From today's stored size down to the projected one, a step per finding. */
export function waterfall(report) {
  const today = report.totals.stored_bytes || 0;
  const proj = report.projected || { saved_bytes: 0, stored_bytes: today };
  const yours = (report.findings || []).filter((f) => f.scope !== 'base');
  const labelW = 400;
  const barX = labelW + 10;
  const barW = W - barX - 110;
  const x = (b) => barX + (today ? (b / today) * barW : 0);
  const rows = [];
  let y = 4;
  let run = today;
  const row = (label, from, to, cls, value, title) => {
    const g = s('g', { class: 'wf-row' },
      title ? s('title', null, title) : null,
      s('text', { x: 0, y: y + 15, class: 'ch-label' }, label),
      s('rect', { x: x(from).toFixed(1), y: y + 3, width: Math.max(1, x(to) - x(from)).toFixed(1), height: ROW - 6, class: cls }),
      s('text', { x: (x(to) + 6).toFixed(1), y: y + 15, class: 'ch-value' }, value));
    rows.push(g);
    y += ROW;
  };
  row('Today (stored in all layers)', 0, today, 'bar-total', size(today));
  for (const f of yours) {
    const inc = f.incremental_bytes || 0;
    const from = Math.max(0, run - inc);
    rows.push(s('line', { x1: x(run).toFixed(1), x2: x(run).toFixed(1), y1: y - 3, y2: y + 3, class: 'wf-link' }));
    row(clip(f.title || f.rule, Math.floor(labelW / CH) - 2), from, run, 'bar-save', `-${size(inc)}`,
      `${visible(f.title || f.rule)}: saves ${size(inc)} on top of the steps above (${size(f.bytes)} alone)`);
    run = from;
  }
  row('After your suggestions', 0, proj.stored_bytes, 'bar-after', `${size(proj.stored_bytes)}`);
  const capId = uid('wf-cap');
  const svg = s('svg', { viewBox: `0 0 ${W} ${y + 4}`, class: 'chart', role: 'img', 'aria-labelledby': capId, id: 'waterfall-chart' }, ...rows);
  const table = plainTable({
    id: 'waterfall-table',
    caption: 'Suggestions in order, each saving on top of those before it',
    head: ['Step', 'Saves', 'Size after'],
    num: [1, 2],
    rows: (() => {
      let r = today;
      const out = [['Today', '-', size(today)]];
      for (const f of yours) { r -= f.incremental_bytes || 0; out.push([clip(f.title || f.rule, 160), `-${size(f.incremental_bytes)}`, size(r)]); }
      return out;
    })(),
  });
  return h('figure', { class: 'chart-figure' },
    h('figcaption', { id: capId }, yours.length
      ? `Applying the ${yours.length} ${yours.length === 1 ? 'suggestion' : 'suggestions'} for your layers would take the stored size from ${size(today)} to ${size(proj.stored_bytes)} (${percent(proj.saved_bytes, today)} less). Each step counts only what the steps above have not already saved.`
      : 'No suggestion for your layers.'),
    svg,
    h('details', { class: 'alt' }, h('summary', null, 'Show as table'), table));
}
