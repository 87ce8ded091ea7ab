// Formatting shared by every view: sizes as the command line writes them
// (decimal units, two decimals: "879.00 kB", "1.20 MB"), signed changes,
// instructions in Dockerfile form and text from an image made safe to show.

const UNITS = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Human size, decimal units, like `imgsize report`'s table. */
export function size(bytes) {
  const b = Number(bytes) || 0;
  if (Math.abs(b) < 1000) return `${b} B`;
  let v = b;
  let i = -1;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(2)} ${UNITS[i]}`;
}

/** A signed change: "+1.20 MB", "-3 B", "0 B". */
export function signedSize(delta) {
  const d = Number(delta) || 0;
  if (d === 0) return '0 B';
  return (d > 0 ? '+' : '-') + size(Math.abs(d));
}

/** An integer with thousands separators: "1,234,567". */
export function int(n) {
  const v = Math.round(Number(n) || 0);
  const s = String(Math.abs(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return v < 0 ? `-${s}` : s;
}

export function signedInt(n) {
  const d = Number(n) || 0;
  if (d === 0) return '0';
  return (d > 0 ? '+' : '-') + int(Math.abs(d));
}

/** `part` of `whole` in percent with one decimal, or a dash. */
export function percent(part, whole) {
  if (!whole) return '-';
  return `${((part * 100) / whole).toFixed(1)}%`;
}

// C0 and C1 controls, DEL, bidirectional controls and the line/paragraph separators:
// the same set the command line escapes before printing text from an image.
// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]/g;

/**
 * Text from an image made safe to show: characters that would reorder or hide
 * what is displayed become visible escapes (`\n`, `\x1b`, `\u{202e}`).
 */
export function visible(text) {
  if (text === null || text === undefined) return '';
  const t = String(text);
  return t.replace(HIDDEN, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
    return `\\u{${code.toString(16)}}`;
  });
}

/** Cut (visible) text to `max` characters, marking the cut with an ellipsis. */
export function clip(text, max) {
  const t = visible(text);
  const chars = Array.from(t);
  if (chars.length <= max) return t;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * The Dockerfile-style form of a history `created_by`, as the command line shows it:
 * `/bin/sh -c #(nop) ENV A=b` is `ENV A=b`, `/bin/sh -c apt-get …` is `RUN apt-get …`,
 * whitespace runs collapse and long content hashes are cut to 12 digits.
 */
export function instruction(createdBy) {
  if (createdBy === null || createdBy === undefined) return '';
  let t = String(createdBy).trim();
  if (t.endsWith('# buildkit')) t = t.slice(0, -'# buildkit'.length).trimEnd();
  if (t.startsWith('/bin/sh -c #(nop)')) {
    t = t.slice('/bin/sh -c #(nop)'.length).trim();
  } else if (t.startsWith('/bin/sh -c ')) {
    t = `RUN ${t.slice('/bin/sh -c '.length).trim()}`;
  } else if (t.startsWith('RUN /bin/sh -c ')) {
    t = `RUN ${t.slice('RUN /bin/sh -c '.length).trim()}`;
  } else if (t.startsWith('|') || t.startsWith('RUN |')) {
    const at = t.indexOf('/bin/sh -c ');
    if (at >= 0) t = `RUN ${t.slice(at + '/bin/sh -c '.length).trim()}`;
  }
  return t
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => {
      const m = /^(file|dir|multi):([0-9a-fA-F]{13,})$/.exec(w);
      return m ? `${m[1]}:${m[2].slice(0, 12)}` : w;
    })
    .join(' ');
}

/** The first 12 hex digits of a digest. */
export function shortDigest(d) {
  if (!d) return '-';
  const s = String(d);
  const i = s.indexOf(':');
  return visible((i >= 0 ? s.slice(i + 1) : s).slice(0, 12));
}
