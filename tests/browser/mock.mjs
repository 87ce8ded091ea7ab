#!/usr/bin/env node
// Makes HTML report pages for developing and testing the browser front-end before
// (and besides) the Rust renderer: reads a JSON report or diff written by
// `imgsize report|diff --format json`, adds a plausible filesystem `tree` to a report
// (random but deterministic, pruned to a node budget the way the report's `tree` is
// documented), and wraps it in the same HTML shell as the Rust renderer, with the
// committed dist/imgsize.js and dist/imgsize.css.
//
//   node tests/browser/mock.mjs REPORT.json OUT.html [--files N] [--max-nodes N]
//        [--seed N] [--no-hostile] [--json-out TREE_REPORT.json]
//
// --files N     random files added to the report's own path cells (default 6000)
// --max-nodes N node budget of the pruned tree (default 5000)
// --no-hostile  leave out the file names made to test escaping (<script>, quotes,
//               bidi and control characters)
// A diff document (`"kind": "diff"`) is wrapped as it is, with data-kind="diff".

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, '..', '..', 'src', 'render', 'html', 'web', 'dist');

function parseArgs(argv) {
  const opts = { files: 6000, maxNodes: 5000, seed: 1, hostile: true, pos: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--files') opts.files = Number(argv[++i]);
    else if (a === '--max-nodes') opts.maxNodes = Number(argv[++i]);
    else if (a === '--seed') opts.seed = Number(argv[++i]);
    else if (a === '--no-hostile') opts.hostile = false;
    else if (a === '--json-out') opts.jsonOut = argv[++i];
    else opts.pos.push(a);
  }
  if (opts.pos.length !== 2) {
    process.stderr.write('usage: node mock.mjs REPORT.json OUT.html [--files N] [--max-nodes N] [--seed N] [--no-hostile] [--json-out FILE]\n');
    process.exit(2);
  }
  return opts;
}

// mulberry32: a small deterministic generator.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['core', 'util', 'net', 'http', 'json', 'yaml', 'crypto', 'ssl', 'xml', 'sql', 'image', 'text',
  'numpy', 'pandas', 'scipy', 'torch', 'grpc', 'proto', 'boto', 'six', 'attrs', 'click', 'jinja', 'flask',
  'django', 'rich', 'lxml', 'pillow', 'certifi', 'idna', 'urllib', 'chardet', 'zlib', 'curl', 'ffi', 'ncurses',
  'readline', 'gnutls', 'krb5', 'ldap', 'sasl', 'systemd', 'udev', 'pam', 'glib', 'icu', 'perl', 'gcc', 'llvm'];
const LANGS = ['de', 'fr', 'es', 'it', 'ja', 'ko', 'pt_BR', 'ru', 'zh_CN', 'zh_TW', 'nl', 'pl', 'sv', 'tr', 'uk'];

// Templates: a path maker, the category, and whether the base image usually ships it.
const TEMPLATES = [
  { w: 18, cat: 'other', base: true, make: (r, p) => `/usr/lib/x86_64-linux-gnu/lib${p(WORDS)}${p(['', '-2', '3', 'cpp'])}.so.${1 + Math.floor(r() * 9)}` },
  { w: 6, cat: 'other', base: true, make: (r, p) => `/usr/bin/${p(WORDS)}${p(['', '-config', 'd', '2'])}` },
  { w: 16, cat: 'app', base: false, make: (r, p) => `/usr/local/lib/python3.12/site-packages/${p(WORDS)}/${p(WORDS)}/${p(WORDS)}_${Math.floor(r() * 40)}.py` },
  { w: 6, cat: 'bytecode', base: false, make: (r, p) => `/usr/local/lib/python3.12/site-packages/${p(WORDS)}/__pycache__/${p(WORDS)}_${Math.floor(r() * 40)}.cpython-312.pyc` },
  { w: 4, cat: 'tests', base: false, make: (r, p) => `/usr/local/lib/python3.12/site-packages/${p(WORDS)}/tests/test_${p(WORDS)}_${Math.floor(r() * 30)}.py` },
  { w: 8, cat: 'docs', base: true, make: (r, p) => `/usr/share/doc/${p(WORDS)}${p(['', '-common', '-data', '-bin'])}/${p(['copyright', 'changelog.Debian.gz', 'README.md', 'NEWS.gz'])}` },
  { w: 5, cat: 'locales', base: true, make: (r, p) => `/usr/share/locale/${p(LANGS)}/LC_MESSAGES/${p(WORDS)}.mo` },
  { w: 3, cat: 'pip-cache', base: false, make: (r) => `/root/.cache/pip/http-v2/${hex(r, 1)}/${hex(r, 1)}/${hex(r, 8)}` },
  { w: 2, cat: 'apt-lists', base: true, make: (r, p) => `/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_${p(['main', 'contrib', 'updates'])}_${p(['binary-amd64_Packages', 'i18n_Translation-en', 'source_Sources'])}${Math.floor(r() * 4)}` },
  { w: 5, cat: 'dev-files', base: false, make: (r, p) => `/usr/include/${p(WORDS)}/${p(WORDS)}_${Math.floor(r() * 50)}.h` },
  { w: 3, cat: 'toolchain', base: false, make: (r, p) => `/usr/lib/gcc/x86_64-linux-gnu/12/${p(['cc1', 'cc1plus', 'lto1', 'collect2', 'plugin/include/' + p(WORDS) + '.h'])}` },
  { w: 12, cat: 'app', base: false, make: (r, p) => `/app/node_modules/${p(['', '@' + p(WORDS) + '/'])}${p(WORDS)}-${p(WORDS)}/${p(['lib', 'dist', 'src'])}/${p(WORDS)}.js` },
  { w: 3, cat: 'npm-cache', base: false, make: (r) => `/root/.npm/_cacache/content-v2/sha512/${hex(r, 1)}/${hex(r, 1)}/${hex(r, 30)}` },
  { w: 2, cat: 'vcs', base: false, make: (r) => `/app/.git/objects/${hex(r, 1)}/${hex(r, 19)}` },
  { w: 1, cat: 'logs-temp', base: false, make: (r, p) => `/tmp/build-${Math.floor(r() * 5)}/${p(WORDS)}.log` },
  { w: 4, cat: 'app', base: false, make: (r, p) => `/app/src/${p(WORDS)}/${p(WORDS)}_${Math.floor(r() * 80)}.${p(['py', 'ts', 'json', 'html'])}` },
];

function hex(r, bytes) {
  let s = '';
  for (let i = 0; i < bytes; i += 1) s += Math.floor(r() * 256).toString(16).padStart(2, '0');
  return s;
}

function categoryOf(path) {
  if (path.includes('/.cache/pip')) return 'pip-cache';
  if (path.startsWith('/var/lib/apt/lists')) return 'apt-lists';
  if (path.startsWith('/var/cache/apt')) return 'apt-archives';
  if (path.startsWith('/usr/share/doc') || path.startsWith('/usr/share/man')) return 'docs';
  if (path.startsWith('/usr/share/locale')) return 'locales';
  if (path.includes('__pycache__') || path.endsWith('.pyc')) return 'bytecode';
  if (path.startsWith('/usr/include')) return 'dev-files';
  if (path.includes('/gcc') || path.includes('-gcc')) return 'toolchain';
  if (path.startsWith('/app')) return 'app';
  return 'other';
}

function buildFiles(report, opts) {
  const r = rng(opts.seed);
  const pick = (arr) => arr[Math.floor(r() * arr.length)];
  const real = (report.layers || []).filter((l) => l.index !== null && l.index !== undefined);
  const base = real.filter((l) => l.scope === 'base');
  const yours = real.filter((l) => l.scope !== 'base');
  const weighted = (ls) => {
    const tot = ls.reduce((a, l) => a + (l.added_bytes || 0) + 1000, 0);
    let x = r() * tot;
    for (const l of ls) {
      x -= (l.added_bytes || 0) + 1000;
      if (x <= 0) return l.index;
    }
    return ls.length ? ls[ls.length - 1].index : null;
  };
  const layerFor = (isBase) => {
    if (isBase && base.length) return weighted(base);
    if (!isBase && yours.length) return weighted(yours);
    return real.length ? weighted(real) : 0;
  };
  const files = new Map();
  const add = (path, bytes, layer, category) => {
    files.set(path, { bytes: Math.max(0, Math.round(bytes)), layer, category: category || categoryOf(path) });
  };
  // the report's own cells first, so the mock agrees with its `paths` table.
  for (const c of report.paths || []) {
    const top = (c.layers || []).slice().sort((a, b) => b.bytes - a.bytes)[0];
    const layer = top ? top.index : layerFor(false);
    if (c.kind === 'file') add(c.path, c.bytes, layer);
    else {
      const n = Math.max(1, Math.min(c.files || 1, 40));
      let left = c.bytes;
      for (let i = 0; i < n; i += 1) {
        const b = i === n - 1 ? left : Math.floor(left * (0.3 + r() * 0.5));
        left -= b;
        add(`${c.path}/${pick(WORDS)}-${i}${pick(['.so', '.py', '', '.dat', '.bin'])}`, b, layer);
      }
    }
  }
  const totalW = TEMPLATES.reduce((a, t) => a + t.w, 0);
  for (let i = 0; i < opts.files; i += 1) {
    let x = r() * totalW;
    let t = TEMPLATES[0];
    for (const tt of TEMPLATES) {
      x -= tt.w;
      if (x <= 0) { t = tt; break; }
    }
    const path = t.make(r, pick);
    // log-normal sizes: median about 3 kB, a long tail of big files.
    const u1 = Math.max(1e-9, r());
    const u2 = r();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    const bytes = Math.min(150e6, Math.exp(8 + 2.3 * z));
    add(path, bytes, layerFor(t.base), t.cat);
  }
  if (opts.hostile) {
    const ly = layerFor(false);
    add('/app/<script>window.__pwned=1</script>.py', 4.2e6, ly, 'app');
    add('/app/"quoted" & \'single\' <b>bold</b>', 3.1e6, ly, 'app');
    add('/app/<img src=x onerror="window.__pwned=2">', 2.6e6, ly, 'app');
    add('/app/evil\u202egnp.exe', 2.2e6, ly, 'app');
    add('/app/line\nbreak\ttab\u0007bell', 1.9e6, ly, 'app');
    add('/app/javascript:alert(1)', 1.7e6, ly, 'app');
  }
  return files;
}

function newDir(name) {
  return { name, kind: 'dir', children: new Map(), bytes: 0, files: 0, byLayer: new Map(), byCat: new Map(), entries: 1 };
}

function buildTree(files) {
  const root = newDir('/');
  for (const [path, f] of files) {
    const parts = path.split('/').filter((p) => p !== '');
    let d = root;
    const chain = [root];
    for (let i = 0; i < parts.length - 1; i += 1) {
      let next = d.children.get(parts[i]);
      if (!next || next.kind !== 'dir') {
        next = newDir(parts[i]);
        d.children.set(parts[i], next);
      }
      d = next;
      chain.push(d);
    }
    const name = parts[parts.length - 1];
    const leaf = { name, kind: f.kind || 'file', bytes: f.bytes, files: 1, layer: f.bytes ? f.layer : null, category: f.bytes ? f.category : null, entries: 1 };
    d.children.set(name, leaf);
    for (const x of chain) {
      x.bytes += f.bytes;
      x.files += 1;
      x.byLayer.set(f.layer, (x.byLayer.get(f.layer) || 0) + f.bytes);
      x.byCat.set(f.category, (x.byCat.get(f.category) || 0) + f.bytes);
    }
  }
  const finish = (d) => {
    if (d.kind !== 'dir') return 1;
    let entries = 1;
    for (const c of d.children.values()) entries += finish(c);
    d.entries = entries;
    d.layer = d.bytes ? top(d.byLayer) : null;
    d.category = d.bytes ? top(d.byCat) : null;
    return entries;
  };
  finish(root);
  return root;
}

function top(m) {
  let best = null;
  let bv = -1;
  for (const [k, v] of m) if (v > bv || (v === bv && String(k) < String(best))) { best = k; bv = v; }
  return best;
}

// Nodes the pruned tree would have with threshold t: each kept folder keeps the
// children with at least t bytes and folds the others into one pruned node.
function countNodes(d, t) {
  let n = 1;
  if (d.kind !== 'dir') return n;
  let folded = false;
  for (const c of d.children.values()) {
    if (c.bytes >= t) n += countNodes(c, t);
    else folded = true;
  }
  return n + (folded ? 1 : 0);
}

function prune(root, maxNodes) {
  const sizes = new Set([0]);
  const walk = (d) => {
    sizes.add(d.bytes);
    if (d.kind === 'dir') for (const c of d.children.values()) walk(c);
  };
  walk(root);
  const sorted = Array.from(sizes).sort((a, b) => a - b);
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (countNodes(root, sorted[mid]) <= maxNodes) hi = mid;
    else lo = mid + 1;
  }
  const t = sorted[lo];
  const stats = { nodes: 0, prunedBytes: 0, prunedEntries: 0 };
  const emit = (d) => {
    stats.nodes += 1;
    const out = { name: d.name, kind: d.kind, bytes: d.bytes, files: d.files, layer: d.bytes ? d.layer : null, category: d.bytes ? d.category : null };
    if (d.kind !== 'dir') return out;
    const kids = Array.from(d.children.values()).sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
    const keep = [];
    const fold = { bytes: 0, files: 0, entries: 0, byLayer: new Map(), byCat: new Map() };
    for (const c of kids) {
      if (c.bytes >= t) keep.push(emit(c));
      else {
        fold.bytes += c.bytes;
        fold.files += c.files;
        fold.entries += c.entries;
        const addTo = (m, src, k, b) => m.set(k, (m.get(k) || 0) + b);
        if (c.kind === 'dir') {
          for (const [k, v] of c.byLayer) addTo(fold.byLayer, null, k, v);
          for (const [k, v] of c.byCat) addTo(fold.byCat, null, k, v);
        } else if (c.bytes) {
          addTo(fold.byLayer, null, c.layer, c.bytes);
          addTo(fold.byCat, null, c.category, c.bytes);
        }
      }
    }
    if (fold.entries) {
      stats.nodes += 1;
      stats.prunedBytes += fold.bytes;
      stats.prunedEntries += fold.entries;
      keep.push({ name: '', kind: 'pruned', bytes: fold.bytes, files: fold.files, layer: fold.bytes ? top(fold.byLayer) : null, category: fold.bytes ? top(fold.byCat) : null, entries: fold.entries });
    }
    out.children = keep;
    return out;
  };
  const tree = emit(root);
  return { max_nodes: maxNodes, min_bytes: t, nodes: stats.nodes, pruned_bytes: stats.prunedBytes, pruned_entries: stats.prunedEntries, root: tree };
}

function escapeHtml(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The page exactly as the Rust renderer writes it. */
export function shell(doc, kind) {
  const css = readFileSync(join(web, 'imgsize.css'), 'utf8');
  const js = readFileSync(join(web, 'imgsize.js'), 'utf8');
  const name = kind === 'diff'
    ? `${doc.old.reference || doc.old.source} vs ${doc.new.reference || doc.new.source}`
    : (doc.image.reference || doc.image.source);
  const data = JSON.stringify(doc).replace(/</g, '\\u003c');
  return '<!doctype html>\n'
    + '<html lang="en"><head><meta charset="utf-8">\n'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    + '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; script-src \'unsafe-inline\'; img-src data:">\n'
    + `<title>imgsize: ${escapeHtml(name)}</title>\n`
    + `<style>${css}</style>\n`
    + '</head><body>\n'
    + '<noscript>This report needs JavaScript; the same figures are in `imgsize report --format json`.</noscript>\n'
    + `<script type="application/json" id="imgsize-data" data-kind="${kind}">${data}</script>\n`
    + `<script>${js}</script>\n`
    + '</body></html>\n';
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const doc = JSON.parse(readFileSync(opts.pos[0], 'utf8'));
  const kind = doc.kind === 'diff' ? 'diff' : 'report';
  if (kind === 'report' && !doc.tree) {
    const files = buildFiles(doc, opts);
    const root = buildTree(files);
    doc.tree = prune(root, opts.maxNodes);
    process.stderr.write(`mock tree: ${files.size} files, ${root.entries} entries -> ${doc.tree.nodes} nodes, min_bytes ${doc.tree.min_bytes}, pruned ${doc.tree.pruned_entries} entries / ${doc.tree.pruned_bytes} bytes\n`);
  }
  if (opts.jsonOut) writeFileSync(opts.jsonOut, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(opts.pos[1], shell(doc, kind));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
