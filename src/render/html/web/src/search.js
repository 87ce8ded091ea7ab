// Path search over the tree: case-insensitive substring over full paths, at most
// MAX_RESULTS suggestions, biggest first; choosing one zooms the treemap to its
// folder and marks it. A path the tree does not hold is explained: it may be
// among a folder's pruned smaller entries.

import { h, uid } from './dom.js';
import { size, int, visible } from './format.js';

const MAX_RESULTS = 15;

export function createSearch(treemap, tree) {
  // the index is built on first use, not while the page loads.
  let entries = null;
  let byPath = null;
  function index() {
    if (entries) return;
    entries = [];
    treemap.root.each((n) => {
      if (n.data.kind === 'pruned' || !n.parent) return;
      entries.push({ node: n, lower: n.path.toLowerCase(), name: String(n.data.name).toLowerCase() });
    });
    byPath = new Map(entries.map((e) => [e.node.path, e.node]));
  }

  const inputId = 'path-search';
  const listId = 'search-results';
  const input = h('input', {
    type: 'search', id: inputId, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'e.g. site-packages or /usr/lib',
    role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'search-results', 'aria-label': 'Matching paths', hidden: true });
  const note = h('p', { id: 'search-status', class: 'search-status', 'aria-live': 'polite' });
  const element = h('div', { class: 'search', role: 'search' },
    h('label', { for: inputId }, 'Find a path'), input, list, note);

  let options = [];
  let active = -1;

  function setActive(i) {
    active = i;
    options.forEach((o, k) => o.el.setAttribute('aria-selected', k === i ? 'true' : 'false'));
    if (i >= 0 && options[i]) {
      input.setAttribute('aria-activedescendant', options[i].el.id);
      options[i].el.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    setActive(-1);
  }

  function choose(o) {
    close();
    treemap.reveal(o.node);
    note.textContent = o.pruned
      ? `${visible(o.query)} is not in the tree: entries under ${size(tree.min_bytes)} of ${visible(o.node.path)} are folded into its "${o.node.label}" box, which is marked.`
      : `Showing ${visible(o.node.path)} (${size(o.node.data.bytes)}), marked in the treemap.`;
  }

  function prunedGuess(q) {
    // "/usr/lib/foo" not in the tree: the deepest folder the tree holds on the way,
    // when it has pruned entries.
    if (!q.startsWith('/')) return null;
    const parts = q.replace(/\/+$/, '').split('/').filter((p) => p !== '');
    let node = treemap.root;
    for (const p of parts) {
      const next = (node.children || []).find((c) => c.data.kind !== 'pruned' && c.data.name === p);
      if (!next) break;
      node = next;
    }
    if (node.path === q.replace(/\/+$/, '')) return null;
    const pruned = (node.children || []).find((c) => c.data.kind === 'pruned');
    if (!pruned) return null;
    return pruned;
  }

  function update() {
    const raw = input.value;
    const q = raw.trim().toLowerCase();
    list.textContent = '';
    options = [];
    if (!q) {
      close();
      note.textContent = '';
      return;
    }
    index();
    const hits = [];
    for (const e of entries) if (e.lower.includes(q)) hits.push(e);
    hits.sort((a, b) => {
      const ea = a.name === q ? 0 : a.name.includes(q) ? 1 : 2;
      const eb = b.name === q ? 0 : b.name.includes(q) ? 1 : 2;
      return ea - eb || b.node.value - a.node.value || (a.node.path < b.node.path ? -1 : 1);
    });
    const shown = hits.slice(0, MAX_RESULTS);
    const guess = hits.length === 0 ? prunedGuess(raw.trim()) : null;
    for (const e of shown) options.push({ node: e.node, pruned: false, query: raw });
    if (guess) options.push({ node: guess, pruned: true, query: raw.trim() });
    options.forEach((o, i) => {
      const n = o.node;
      const el = h('li', {
        role: 'option', id: uid('search-opt'), 'aria-selected': 'false',
        'data-path': o.pruned ? raw.trim() : n.path, 'data-pruned': o.pruned ? 'true' : null,
      },
      h('span', { class: 'opt-path' }, o.pruned ? `${visible(raw.trim())} may be among ${n.label} in ${visible(n.path)}` : visible(n.path) + (n.data.kind === 'dir' ? '/' : '')),
      h('span', { class: 'opt-size' }, size(n.data.bytes)));
      el.addEventListener('mousedown', (ev) => ev.preventDefault());
      el.addEventListener('click', () => choose(o));
      o.el = el;
      list.append(el);
      if (i === 0) { /* nothing preselected */ }
    });
    list.hidden = options.length === 0;
    input.setAttribute('aria-expanded', options.length ? 'true' : 'false');
    active = -1;
    if (hits.length === 0) {
      note.textContent = guess
        ? `No path in the tree contains "${visible(raw.trim())}"; it may be one of the smaller entries folded together.`
        : `No path in the tree contains "${visible(raw.trim())}". `
          + (tree.pruned_entries ? `${int(tree.pruned_entries)} entries under ${size(tree.min_bytes)} each were folded into "smaller entries" boxes and cannot be searched.` : '');
    } else {
      note.textContent = hits.length > shown.length
        ? `${int(hits.length)} paths match; the ${shown.length} biggest are listed.`
        : `${int(hits.length)} ${hits.length === 1 ? 'path matches' : 'paths match'}.`;
    }
  }

  input.addEventListener('input', update);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (list.hidden) update();
      if (options.length) setActive((active + 1) % options.length);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (options.length) setActive(active <= 0 ? options.length - 1 : active - 1);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      index();
      const exact = byPath.get(input.value.trim().replace(/\/+$/, ''));
      if (active >= 0 && options[active]) choose(options[active]);
      else if (exact) choose({ node: exact, pruned: false, query: input.value });
      else if (options.length) choose(options[0]);
    } else if (e.key === 'Escape') {
      close();
    }
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
  input.addEventListener('focus', () => { if (input.value.trim()) update(); });

  return { element, input };
}
