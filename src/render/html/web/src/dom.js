// DOM helpers. Every piece of text goes in through textContent or setAttribute:
// nothing here parses markup, so names from an image cannot become elements.

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(el, attrs, children) {
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) append(el, c);
  return el;
}

function append(el, c) {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) {
    for (const x of c) append(el, x);
  } else if (typeof c === 'string' || typeof c === 'number') {
    el.appendChild(document.createTextNode(String(c)));
  } else {
    el.appendChild(c);
  }
}

/** An HTML element: h('td', {class: 'num'}, 'text', child, ...). */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, the same way. */
export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

let idCounter = 0;
/** A fresh id for aria-labelledby and label-for pairs. */
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// A headline card: a label, a figure and a line under it.
export function card(label, value, sub, cls) {
  return h('div', { class: `card${cls ? ` ${cls}` : ''}` },
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, value),
    sub ? h('div', { class: 'card-sub' }, sub) : null);
}

export function section(id, title, intro, ...body) {
  return h('section', { id, 'aria-labelledby': `${id}-h` },
    h('h2', { id: `${id}-h` }, title),
    intro ? h('p', { class: 'intro' }, intro) : null,
    ...body);
}
