#!/usr/bin/env node
// How far apart the HTML report's colours stay for people with colour blindness:
// every pair of category-family colours, and every pair of neighbouring layer colours
// (for 2 to 40 layers of your own and up to 10 base layers), seen with normal vision
// and through the Machado et al. (2009) simulations of protanopia, deuteranopia and
// tritanopia at full severity. Distances are CIE76 ΔE in CIELAB (2.3 is a just
// noticeable difference; above 10 colours read as different at a glance). Prints ONE
// JSON object: {vision: {families_min_de, families_pair, layers_min_de}} for
// "normal", "protanopia", "deuteranopia" and "tritanopia". The Rust test asserts.
import { FAMILIES, layerColors } from '../../src/render/html/web/src/colors.js';

const MACHADO = {
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
};

const toLinear = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => toLinear(v / 255));
}
function lab([r, g, b]) {
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}
function seen(hex, m) {
  const c = rgb(hex);
  const s = m.map((row) => Math.max(0, Math.min(1, row[0] * c[0] + row[1] * c[1] + row[2] * c[2])));
  return lab(s);
}
const de = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

const out = {};
for (const [vision, m] of Object.entries(MACHADO)) {
  let best = { de: Infinity, pair: null };
  for (let i = 0; i < FAMILIES.length; i += 1) {
    for (let j = i + 1; j < FAMILIES.length; j += 1) {
      const d = de(seen(FAMILIES[i].color, m), seen(FAMILIES[j].color, m));
      if (d < best.de) best = { de: d, pair: [FAMILIES[i].name, FAMILIES[j].name] };
    }
  }
  let layersMin = Infinity;
  for (let base = 0; base <= 10; base += 1) {
    for (let yours = 2; yours <= 40; yours += 1) {
      const layers = [];
      for (let i = 0; i < base + yours; i += 1) layers.push({ index: i, scope: i < base ? 'base' : 'yours' });
      const colours = layerColors(layers);
      // Neighbours among your layers: those a treemap puts side by side most often.
      for (let i = base + 1; i < base + yours; i += 1) {
        layersMin = Math.min(layersMin, de(seen(colours.get(i - 1), m), seen(colours.get(i), m)) * (yours - 1));
      }
    }
  }
  out[vision] = {
    families_min_de: Math.round(best.de * 10) / 10,
    families_pair: best.pair,
    // ΔE between neighbouring layers times (layers - 1): the ramp's length, which
    // neighbours share; a ramp that collapses somewhere shows as a small value.
    layers_ramp_min_de: Math.round(layersMin * 10) / 10,
  };
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
