// Small DOM helpers: elements from a tag, attributes and children (text is always text, never HTML).

/**
 * @param {string} tag e.g. 'td', 'button.primary'
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const [name = 'div', ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length > 0) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {Array<Node | string | number | null | undefined | false>} children */
export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/** @param {Element} el @param {...(Node | string | number | null | undefined | false)} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Seconds for people: 45s, 3m 20s, 2h 5m, 3d 4h. @param {number | undefined | null} s */
export function duration(s) {
  if (s === undefined || s === null || Number.isNaN(s)) return '—';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** Bytes in decimal units, as kubectl zcsp sizing prints them: 403 TB, 1.68 TB. @param {number | undefined | null} n */
export function bytes(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  const units = [['PB', 1e15], ['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['kB', 1e3]];
  for (const [unit, size] of units) if (n >= /** @type {number} */ (size)) return `${trim(n / /** @type {number} */ (size))} ${unit}`;
  return `${Math.round(n)} B`;
}

/** Bits per second in decimal units: 1.87 Gbit/s. @param {number | undefined | null} n */
export function bits(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  const units = [['Tbit/s', 1e12], ['Gbit/s', 1e9], ['Mbit/s', 1e6], ['kbit/s', 1e3]];
  for (const [unit, size] of units) if (n >= /** @type {number} */ (size)) return `${trim(n / /** @type {number} */ (size))} ${unit}`;
  return `${Math.round(n)} bit/s`;
}

/** Up to two decimals, without trailing zeros. @param {number} v */
function trim(v) {
  return (Math.ceil(v * 100) / 100).toFixed(2).replace(/\.?0+$/, '');
}

/** An RFC 3339 time as YYYY-MM-DD HH:MM:SS UTC. @param {string | undefined} t */
export function time(t) {
  if (t === undefined || t === '') return '—';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * A table with a caption, headers and rows; each cell carries its header (for the narrow layout).
 * @param {string} caption
 * @param {string[]} headers
 * @param {Array<Array<Node | string | number | null | undefined>>} rows
 * @param {string} [empty]
 * @param {boolean} [hideCaption] when the section's heading says the same
 */
export function table(caption, headers, rows, empty = 'None.', hideCaption = false) {
  if (rows.length === 0) return h('p.muted', null, `${caption}: ${empty}`);
  return h('div.scroll', null, h('table.stack', null,
    h(hideCaption ? 'caption.sr-only' : 'caption', null, caption),
    h('thead', null, h('tr', null, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, ...rows.map((row) => h('tr', null, ...row.map((cell, i) => h('td', { 'data-label': headers[i] ?? '' }, cell ?? '—')))))));
}
