// Colours that survive colour blindness: the Okabe-Ito palette for the category
// families, viridis for your layers and greys for the base image's layers. Colour is
// never the only carrier: every legend and label names the layer or the category.

export const FAMILIES = [
  {
    id: 'caches',
    name: 'Package caches',
    color: '#D55E00',
    categories: ['pip-cache', 'apt-lists', 'apt-archives', 'apk-cache', 'npm-cache', 'yarn-cache',
      'pnpm-store', 'go-cache', 'cargo-cache', 'maven-cache', 'gradle-cache', 'composer-cache',
      'gem-cache'],
  },
  { id: 'docs', name: 'Docs and locales', color: '#56B4E9', categories: ['docs', 'locales'] },
  { id: 'tests', name: 'Tests', color: '#CC79A7', categories: ['tests'] },
  { id: 'bytecode', name: 'Bytecode', color: '#F0E442', categories: ['bytecode'] },
  { id: 'dev', name: 'Dev files and toolchains', color: '#E69F00', categories: ['dev-files', 'toolchain'] },
  { id: 'vcs', name: 'VCS, logs and temp', color: '#009E73', categories: ['vcs', 'logs-temp'] },
  { id: 'app', name: 'Application', color: '#0072B2', categories: ['app'] },
  { id: 'other', name: 'Other', color: '#CCCCCC', categories: ['other'] },
];

const FAMILY_OF = new Map();
for (const f of FAMILIES) for (const c of f.categories) FAMILY_OF.set(c, f);

/** The family of a category code (unknown codes are "Other"). */
export function family(category) {
  return FAMILY_OF.get(category) || FAMILIES[FAMILIES.length - 1];
}

export const NO_DATA = '#d9dde3';
export const PRUNED = '#c4c9d0';

const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779',
  '#6ece58', '#b5de2b', '#fde725'];

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbToHex(rgb) {
  return `#${rgb.map((v) => Math.round(Math.max(0, Math.min(255, v))).toString(16).padStart(2, '0')).join('')}`;
}

/** Viridis at t in [0, 1]. */
export function viridis(t) {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const a = hexToRgb(VIRIDIS[i]);
  const b = hexToRgb(VIRIDIS[i + 1]);
  const f = x - i;
  return rgbToHex(a.map((v, k) => v + (b[k] - v) * f));
}

const TINTS = new Map();
/** `hex` mixed with white: amount 0 is the colour, 1 is white. */
export function tint(hex, amount) {
  const key = `${hex}/${amount}`;
  let out = TINTS.get(key);
  if (out === undefined) {
    const c = hexToRgb(hex);
    out = rgbToHex(c.map((v) => v + (255 - v) * amount));
    TINTS.set(key, out);
  }
  return out;
}

function luminance(hex) {
  const [r, g, b] = hexToRgb(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const INKS = new Map();
/** Black or white, whichever contrasts more with `hex`. */
export function textOn(hex) {
  let out = INKS.get(hex);
  if (out === undefined) {
    const l = luminance(hex);
    const onBlack = (l + 0.05) / 0.05;
    const onWhite = 1.05 / (l + 0.05);
    out = onBlack >= onWhite ? '#111111' : '#ffffff';
    INKS.set(hex, out);
  }
  return out;
}

/**
 * Colours for the real layers: base layers in greys (light to dark), your layers
 * along viridis. Returns a Map from layer index to colour.
 */
export function layerColors(layers) {
  const real = layers.filter((l) => l.index !== null && l.index !== undefined);
  const base = real.filter((l) => l.scope === 'base');
  const yours = real.filter((l) => l.scope !== 'base');
  const out = new Map();
  base.forEach((l, i) => {
    const t = base.length === 1 ? 0.5 : i / (base.length - 1);
    const v = Math.round(200 - t * 90);
    out.set(l.index, rgbToHex([v, v, v + 6]));
  });
  yours.forEach((l, i) => {
    const t = yours.length === 1 ? 0.55 : 0.05 + (i / (yours.length - 1)) * 0.95;
    out.set(l.index, viridis(t));
  });
  return out;
}
