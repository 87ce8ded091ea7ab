#!/usr/bin/env node
// Drives Debian's chromium (/usr/bin/chromium) over one imgsize HTML page and prints
// what it saw as ONE JSON object on stdout. It asserts nothing: the Rust tests do.
//
//   node tests/browser/drive.mjs PAGE.html SCREENSHOT.png [--search TERM] [--timing-only]
//                                [--timeout MS] [--layer N]
//
// Exit code 0 when the browser could be driven (whatever the page did), 1 when not
// (the output then has `fatal`), 2 for bad arguments.
//
// Output keys (every key always present for its page kind; null when not measured):
//   page             absolute path of the page
//   page_bytes       size of the HTML file in bytes
//   kind             data-kind of #imgsize-data ("report", "diff" or "fleet"), null if absent
//   ready            value of body[data-ready] after waiting ("1", "error", or null on timeout)
//   ready_ms         ms from navigation start to body[data-ready="1"] (null if never)
//   console_errors   [text] console messages of type "error", in order
//   console_warnings [text] console messages of type "warning"
//   page_errors      [text] uncaught exceptions
//   requests         [url] every request other than the page's own file:// URL and data: URLs
//   error_box        text of #imgsize-error (the page's visible error box), or null
//   pwned            window.__pwned (set only if a hostile name in the mock ran as code), or null
//   injected         {scripts, imgs, iframes}: element counts in <body> (a clean page has
//                    scripts: 2, the data block and the bundle; imgs: 0; iframes: 0)
//   screenshot       path of the full-page PNG
// --timing-only stops there. For a report page (data-kind="report"), also:
//   headings               [text] of h1 and h2, in order
//   treemap_boxes          .tm-box elements drawn at the root view
//   treemap_tab_stops      elements with tabindex="0" inside #treemap-svg (1 for a roving tabindex)
//   treemap_label          aria-label of #treemap-svg at the root view
//   pruned_note            text of #treemap-pruned
//   breadcrumb_before      [text] of #treemap-breadcrumb li, e.g. ["/"]
//   clicked_folder         data-path of the biggest depth-1 folder box that was clicked
//   breadcrumb_after_click [text] after clicking it, e.g. ["/", "usr"]
//   search: { term, results: [data-path of each option shown], status, chosen,
//             breadcrumb_after, highlighted (data-path or data-pruned-in of .tm-highlight),
//             status_after }
//   keyboard: { breadcrumb_reset ([text] after the "/" crumb was clicked),
//               start (aria-label of the focused roving box), after_arrow_right,
//               enter_on (data-path of the folder Enter was pressed on),
//               breadcrumb_after_enter, active_after_enter,
//               breadcrumb_after_escape, active_after_escape }
//   colour: { legend_before: [text], legend_after: [text] (after choosing "Category"),
//             checked_after (value of the checked radio) }
//   sort: { table: "categories-table", column, before: [first-column text],
//           after: [...], aria_sort_before, aria_sort_after }
//   changes (with --layer N, else null): layer N's row in the timeline focused and
//     Enter pressed, then: { focusable (the row's tabindex), pressed (its aria-pressed),
//     title, summary, tab_stops (treeitems with tabindex="0"), rows (the visible rows:
//     [level, name, mark, bytes, expanded]), keys: [{key, focused, expanded, rows}] for
//     Home, Left, Right, Right, Down, Left, Right (on the first row, then as the focus moves),
//     by_name (rows after the Path header was pressed with Enter), sort_pressed
//     (aria-pressed of the Path button), hidden_only (rows after "Only hidden later"),
//     screenshot (SCREENSHOT with -changes before .png: the Layers section) }
// For a diff page (data-kind="diff"), also:
//   headings  [text] of h1 and h2, in order
//   sections  [id] of each <section>
//   tables    {id: number of body rows} for each table with an id
// For a fleet page (data-kind="fleet"), the same three, and:
//   images    [text] of the first column of #fleet-images-table, in order
//   errors    [text] of the rows of #fleet-errors-table (cells joined by " | ")
//   sort: { table: "fleet-images-table", column (data-key of the header), presses
//           (Enter presses on its focused button), focused (the button had focus),
//           before: [first-column text], after: [...], aria_sort_after }
//   filter: { term (--search TERM), rows (body rows shown), images: [first-column
//             text], status (text of #fleet-image-status) }, or null without --search

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
  const o = { search: null, timingOnly: false, timeout: 20000, layer: null, pos: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--search') o.search = argv[++i];
    else if (a === '--timing-only') o.timingOnly = true;
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '--layer') o.layer = argv[++i];
    else o.pos.push(a);
  }
  if (o.pos.length !== 2) {
    process.stderr.write('usage: node drive.mjs PAGE.html SCREENSHOT.png [--search TERM] [--timing-only] [--timeout MS]\n');
    process.exit(2);
  }
  return o;
}

// A file name from the page's own data: the biggest plain-named file in the tree.
function defaultSearchTerm(html) {
  const m = /<script type="application\/json" id="imgsize-data"[^>]*>([\s\S]*?)<\/script>/.exec(html);
  if (!m) return null;
  let doc;
  try { doc = JSON.parse(m[1]); } catch { return null; }
  if (!doc.tree || !doc.tree.root) return null;
  let best = null;
  const walk = (n) => {
    if (n.kind === 'file' && /^[A-Za-z0-9._+-]{3,}$/.test(n.name) && (!best || n.bytes > best.bytes)) best = n;
    for (const c of n.children || []) walk(c);
  };
  walk(doc.tree.root);
  return best ? best.name : null;
}

const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent.trim()));
const crumbs = (page) => texts(page, '#treemap-breadcrumb li');
const activeLabel = (page) => page.evaluate(() => (document.activeElement ? document.activeElement.getAttribute('aria-label') : null));

async function driveReport(page, out, opts, html) {
  out.headings = await texts(page, 'h1, h2');
  out.treemap_boxes = await page.$$eval('#treemap-svg .tm-box', (e) => e.length);
  out.treemap_tab_stops = await page.$$eval('#treemap-svg [tabindex="0"]', (e) => e.length);
  out.treemap_label = await page.$eval('#treemap-svg', (e) => e.getAttribute('aria-label')).catch(() => null);
  out.pruned_note = await page.$eval('#treemap-pruned', (e) => e.textContent.trim()).catch(() => null);
  out.breadcrumb_before = await crumbs(page);

  // click the biggest folder at the top level, on its top-left corner (its own
  // header strip, not a nested box).
  out.clicked_folder = null;
  out.breadcrumb_after_click = null;
  const folder = await page.$('#treemap-svg .tm-box[data-kind="dir"][data-depth="1"]');
  if (folder) {
    out.clicked_folder = await folder.getAttribute('data-path');
    await folder.click({ position: { x: 4, y: 4 } });
    out.breadcrumb_after_click = await crumbs(page);
  }

  // search
  const term = opts.search || defaultSearchTerm(html);
  out.search = { term, results: null, status: null, chosen: null, breadcrumb_after: null, highlighted: null, status_after: null };
  if (term !== null && await page.$('#path-search')) {
    await page.fill('#path-search', '');
    await page.type('#path-search', term);
    out.search.results = await page.$$eval('#search-results [role="option"]', (els) => els.map((e) => e.getAttribute('data-path')));
    out.search.status = await page.$eval('#search-status', (e) => e.textContent.trim());
    const first = await page.$('#search-results [role="option"]');
    if (first) {
      out.search.chosen = await first.getAttribute('data-path');
      await first.click();
      out.search.breadcrumb_after = await crumbs(page);
      out.search.highlighted = await page.$eval('#treemap-svg .tm-highlight', (e) => e.getAttribute('data-path') || e.getAttribute('data-pruned-in')).catch(() => null);
      out.search.status_after = await page.$eval('#search-status', (e) => e.textContent.trim());
    }
  }

  // keyboard
  const kb = { breadcrumb_reset: null, start: null, after_arrow_right: null, enter_on: null, breadcrumb_after_enter: null, active_after_enter: null, breadcrumb_after_escape: null, active_after_escape: null };
  out.keyboard = kb;
  const rootCrumb = await page.$('#treemap-breadcrumb li:first-child button');
  if (rootCrumb) await rootCrumb.click();
  kb.breadcrumb_reset = await crumbs(page);
  const stop = await page.$('#treemap-svg [tabindex="0"]');
  if (stop) {
    await stop.focus();
    kb.start = await activeLabel(page);
    await page.keyboard.press('ArrowRight');
    kb.after_arrow_right = await activeLabel(page);
    // Enter needs a folder: step on with ArrowRight (then from the first box) until one has focus.
    const isDir = () => page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-kind') === 'dir');
    let steps = 0;
    if (!(await isDir())) {
      await page.keyboard.press('Home');
      while (!(await isDir()) && steps < 60) {
        await page.keyboard.press('ArrowRight');
        steps += 1;
      }
    }
    if (await isDir()) {
      kb.enter_on = await page.evaluate(() => document.activeElement.getAttribute('data-path'));
      await page.keyboard.press('Enter');
      kb.breadcrumb_after_enter = await crumbs(page);
      kb.active_after_enter = await activeLabel(page);
      await page.keyboard.press('Escape');
      kb.breadcrumb_after_escape = await crumbs(page);
      kb.active_after_escape = await activeLabel(page);
    }
  }

  // colour toggle
  out.colour = { legend_before: await texts(page, '#treemap-legend li'), legend_after: null, checked_after: null };
  const cat = await page.$('#treemap-colour input[value="category"]');
  if (cat) {
    await cat.check();
    out.colour.legend_after = await texts(page, '#treemap-legend li');
    out.colour.checked_after = await page.$eval('#treemap-colour input:checked', (e) => e.value);
  }

  // sort the category table by its first column
  out.sort = { table: 'categories-table', column: null, before: null, after: null, aria_sort_before: null, aria_sort_after: null };
  const th = await page.$('#categories-table thead th');
  if (th) {
    const firstCol = () => texts(page, '#categories-table tbody tr td:first-child');
    out.sort.column = await th.evaluate((e) => e.textContent.trim());
    out.sort.before = await firstCol();
    out.sort.aria_sort_before = await th.getAttribute('aria-sort');
    await page.click('#categories-table thead th:first-child button');
    out.sort.after = await firstCol();
    out.sort.aria_sort_after = await th.getAttribute('aria-sort');
  }
}

// Pick a layer in the timeline with the keyboard and browse its changes.
async function driveChanges(page, out, opts, shot) {
  out.changes = null;
  const pick = `#layers-chart .ch-pick[data-layer="${opts.layer}"]`;
  if (opts.layer === null || !(await page.$(pick))) return;
  const c = {};
  out.changes = c;
  c.focusable = await page.$eval(pick, (e) => e.getAttribute('tabindex'));
  await page.focus(pick);
  await page.keyboard.press('Enter');
  c.pressed = await page.$eval(pick, (e) => e.getAttribute('aria-pressed'));
  c.title = await page.$eval('#changes-title', (e) => e.textContent.trim());
  c.summary = await page.$eval('#changes-summary', (e) => e.textContent.trim());
  c.tab_stops = await page.$$eval('#changes-tree [role="treeitem"][tabindex="0"]', (e) => e.length);
  const rows = () => page.$$eval('#changes-tree [role="treeitem"]', (els) => els.map((e) => [
    Number(e.getAttribute('aria-level')), e.querySelector('.c-name').textContent, e.querySelector('.c-mark').textContent,
    e.querySelector('.c-bytes').textContent, e.getAttribute('aria-expanded')]));
  c.rows = await rows();
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return e && e.getAttribute('role') === 'treeitem' ? [e.querySelector('.c-name').textContent, e.getAttribute('aria-expanded')] : null;
  });
  c.keys = [];
  if (await page.$('#changes-tree [tabindex="0"]')) {
    await page.focus('#changes-tree [tabindex="0"]');
    for (const key of ['Home', 'ArrowLeft', 'ArrowRight', 'ArrowRight', 'ArrowDown', 'ArrowLeft', 'ArrowRight']) {
      await page.keyboard.press(key);
      const [name, expanded] = (await focused()) || [null, null];
      c.keys.push({ key, focused: name, expanded, rows: (await rows()).length });
    }
  }
  await page.focus('#changes .changes-sort[data-sort="name"]');
  await page.keyboard.press('Enter');
  c.by_name = await rows();
  c.sort_pressed = await page.$eval('#changes .changes-sort[data-sort="name"]', (e) => e.getAttribute('aria-pressed'));
  await page.click('#changes .changes-sort[data-sort="size"]');
  await page.click('#changes [data-filter="hidden"]');
  c.hidden_only = await rows();
  await page.click('#changes [data-filter="all"]');
  c.screenshot = shot.replace(/\.png$/, '-changes.png');
  await page.$eval('#layers', (e) => e.scrollIntoView());
  await (await page.$('#layers')).screenshot({ path: c.screenshot });
}

async function driveDiff(page, out) {
  out.headings = await texts(page, 'h1, h2');
  out.sections = await page.$$eval('section', (els) => els.map((e) => e.id));
  out.tables = await page.$$eval('table[id]', (els) => Object.fromEntries(els.map((t) => [t.id, t.tBodies[0] ? Array.from(t.tBodies[0].rows).filter((r) => !r.querySelector('td.empty')).length : 0])));
}

// Sort the images by their own bytes with the keyboard: focus the header's button and
// press Enter twice (a number column sorts descending first, then ascending).
async function driveFleet(page, out, opts) {
  await driveDiff(page, out);
  const names = () => texts(page, '#fleet-images-table tbody tr td:first-child');
  out.images = await names();
  out.errors = await page.$$eval('#fleet-errors-table tbody tr', (rows) => rows
    .filter((r) => !r.querySelector('td.empty'))
    .map((r) => Array.from(r.cells).map((c) => c.textContent.trim()).join(' | ')));
  const column = 'own_bytes';
  const th = `#fleet-images-table thead th[data-key="${column}"]`;
  out.sort = { table: 'fleet-images-table', column, presses: 2, focused: false, before: out.images, after: null, aria_sort_after: null };
  if (await page.$(`${th} button`)) {
    await page.focus(`${th} button`);
    out.sort.focused = await page.evaluate((sel) => document.activeElement === document.querySelector(sel), `${th} button`);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    out.sort.after = await names();
    out.sort.aria_sort_after = await page.$eval(th, (e) => e.getAttribute('aria-sort'));
  }
  out.filter = null;
  if (opts.search !== null && await page.$('#fleet-image-filter')) {
    await page.fill('#fleet-image-filter', '');
    await page.type('#fleet-image-filter', opts.search);
    out.filter = {
      term: opts.search,
      rows: await page.$$eval('#fleet-images-table tbody tr', (rows) => rows.filter((r) => !r.querySelector('td.empty')).length),
      images: await page.$$eval('#fleet-images-table tbody tr', (rows) => rows.filter((r) => !r.querySelector('td.empty')).map((r) => r.cells[0].textContent.trim())),
      status: await page.$eval('#fleet-image-status', (e) => e.textContent.trim()),
    };
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pagePath = resolve(opts.pos[0]);
  const shot = resolve(opts.pos[1]);
  const pageUrl = pathToFileURL(pagePath).href;
  const html = readFileSync(pagePath, 'utf8');
  const out = {
    page: pagePath, page_bytes: statSync(pagePath).size, kind: null, ready: null, ready_ms: null,
    console_errors: [], console_warnings: [], page_errors: [], requests: [],
    error_box: null, pwned: null, injected: null, screenshot: shot,
  };
  const profile = mkdtempSync(join(tmpdir(), 'imgsize-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    context.on('request', (req) => {
      const u = req.url();
      if (u !== pageUrl && !u.startsWith('data:')) out.requests.push(u);
    });
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') out.console_errors.push(m.text());
      else if (m.type() === 'warning') out.console_warnings.push(m.text());
    });
    page.on('pageerror', (e) => out.page_errors.push(String(e && e.message ? e.message : e)));
    // record the moment body[data-ready] is set, in ms since navigation start.
    await page.addInitScript(() => {
      const obs = new MutationObserver(() => {
        const b = document.body;
        if (b && b.dataset.ready && window.__imgsizeReadyAt === undefined) {
          window.__imgsizeReadyAt = performance.now();
          window.__imgsizeReadyValue = b.dataset.ready;
          obs.disconnect();
        }
      });
      obs.observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
    });
    await page.goto(pageUrl, { waitUntil: 'load' });
    try {
      await page.waitForSelector('body[data-ready]', { timeout: opts.timeout, state: 'attached' });
    } catch { /* recorded below as ready: null */ }
    const r = await page.evaluate(() => ({
      at: window.__imgsizeReadyAt === undefined ? null : window.__imgsizeReadyAt,
      value: document.body ? document.body.dataset.ready || null : null,
      kind: document.getElementById('imgsize-data') ? document.getElementById('imgsize-data').getAttribute('data-kind') : null,
      error: document.getElementById('imgsize-error') ? document.getElementById('imgsize-error').textContent.trim() : null,
      pwned: window.__pwned === undefined ? null : window.__pwned,
      injected: {
        scripts: document.body ? document.body.querySelectorAll('script').length : 0,
        imgs: document.querySelectorAll('img').length,
        iframes: document.querySelectorAll('iframe').length,
      },
    }));
    out.kind = r.kind;
    out.ready = r.value;
    out.ready_ms = r.value === '1' && r.at !== null ? Math.round(r.at) : null;
    out.error_box = r.error;
    out.pwned = r.pwned;
    out.injected = r.injected;
    await page.screenshot({ path: shot, fullPage: true });
    if (!opts.timingOnly && r.value === '1') {
      if (r.kind === 'diff') await driveDiff(page, out);
      else if (r.kind === 'fleet') await driveFleet(page, out, opts);
      else {
        await driveReport(page, out, opts, html);
        await driveChanges(page, out, opts, shot);
      }
      out.pwned = await page.evaluate(() => (window.__pwned === undefined ? null : window.__pwned));
    }
    await context.close();
    context = null;
  } catch (e) {
    out.fatal = String(e && e.stack ? e.stack : e);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    process.exit(1);
  }
  rmSync(profile, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main();
