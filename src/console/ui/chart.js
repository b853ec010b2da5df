// The RPO chart: the samples of the last hours as an inline SVG line, with the largest value and
// the time span as text, and a summary for screen readers.
import { duration } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

/** @param {string} tag @param {Record<string, string | number>} attrs */
function s(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * @param {Array<{ t: number, rpoSeconds: number | null }>} samples
 * @param {number} hours
 * @param {number} [now]
 * @returns {SVGSVGElement}
 */
export function rpoChart(samples, hours, now = Date.now()) {
  const width = 600;
  const height = 140;
  const pad = { left: 8, right: 8, top: 18, bottom: 18 };
  // The window starts at the first sample when the history is shorter than the hours asked for.
  const from = Math.max(now - hours * 3600_000, Math.min(samples[0]?.t ?? now, now - 60_000));
  const values = samples.filter((x) => x.rpoSeconds !== null).map((x) => /** @type {number} */ (x.rpoSeconds));
  const max = Math.max(10, ...values);
  const latest = values.at(-1);
  const svg = /** @type {SVGSVGElement} */ (s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', preserveAspectRatio: 'none' }));
  const title = s('title', {});
  title.textContent = values.length === 0
    ? `RPO, last ${hours} hours: no samples yet`
    : `RPO, last ${hours} hours: now ${duration(latest)}, highest ${duration(Math.max(...values))}, ${values.length} samples`;
  svg.append(title);
  const x = (/** @type {number} */ t) => pad.left + ((t - from) / (now - from)) * (width - pad.left - pad.right);
  const y = (/** @type {number} */ v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  svg.append(s('line', { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), class: 'axis' }));
  svg.append(s('line', { x1: pad.left, x2: width - pad.right, y1: y(max), y2: y(max), class: 'grid' }));
  // One polyline per run of samples with a value: a gap where the VPG reported none.
  /** @type {string[]} */
  let run = [];
  const flush = () => {
    if (run.length === 1) run.push(run[0] ?? '');
    if (run.length > 0) svg.append(s('polyline', { points: run.join(' '), class: 'line' }));
    run = [];
  };
  for (const sample of samples) {
    if (sample.rpoSeconds === null) flush();
    else run.push(`${x(Math.max(sample.t, from)).toFixed(1)},${y(sample.rpoSeconds).toFixed(1)}`);
  }
  flush();
  const label = (/** @type {string} */ text, /** @type {Record<string, string | number>} */ at) => {
    const t = s('text', { ...at, class: 'label' });
    t.textContent = text;
    svg.append(t);
  };
  label(`max ${duration(max)}`, { x: pad.left, y: pad.top - 5 });
  label(`${duration((now - from) / 1000)} ago`, { x: pad.left, y: height - 4 });
  label('now', { x: width - pad.right, y: height - 4, 'text-anchor': 'end' });
  return svg;
}
