// Entry point: read the embedded JSON, build the page into <body>, mark it ready.
// Any failure shows a visible error instead of a blank page.

import { h } from './dom.js';
import { renderReport } from './report.js';
import { renderDiff } from './diff.js';
import { renderFleet } from './fleet.js';
import './licenses.js';

// Performance marks for the benchmark (performance.getEntriesByType('mark')).
function mark(name) {
  if (window.performance && performance.mark) performance.mark(name);
}

function showError(err) {
  const msg = err && err.message ? err.message : String(err);
  const dataEl = document.getElementById('imgsize-data');
  const kind = dataEl && /^(report|diff|fleet)$/.test(dataEl.getAttribute('data-kind')) ? dataEl.getAttribute('data-kind') : 'report';
  const box = h('div', { class: 'box box-problem fatal', role: 'alert', id: 'imgsize-error' },
    h('strong', null, 'This report could not be shown.'),
    h('p', null, msg),
    h('p', null, `The same figures are in \`imgsize ${kind} --format json\`.`));
  document.body.prepend(box);
  document.body.dataset.ready = 'error';
}

function run() {
  const dataEl = document.getElementById('imgsize-data');
  if (!dataEl) throw new Error('the page holds no report data (#imgsize-data is missing)');
  const kind = dataEl.getAttribute('data-kind') || 'report';
  mark('imgsize:start');
  const data = JSON.parse(dataEl.textContent);
  mark('imgsize:parsed');
  const root = h('div', { class: 'page', id: 'imgsize-app' });
  let view;
  if (kind === 'diff' || data.kind === 'diff') view = renderDiff(data, root);
  else if (kind === 'fleet' || data.kind === 'fleet') view = renderFleet(data, root);
  else if (kind === 'report') view = renderReport(data, root);
  else throw new Error(`unknown data-kind "${kind}"`);
  mark('imgsize:built');
  document.body.append(root);
  view.start();
  mark('imgsize:drawn');
  document.body.dataset.ready = '1';
}

window.addEventListener('error', (e) => {
  if (document.body && document.body.dataset.ready !== 'error') showError(e.error || e.message);
});

function boot() {
  try {
    run();
  } catch (e) {
    showError(e);
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
