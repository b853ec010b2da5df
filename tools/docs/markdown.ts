// Reading the docs back for their tests: headings (with the anchors GitHub gives them), tables
// with the section they sit in, links, and fenced code blocks. Only the Markdown the docs use.
import { fileURLToPath } from 'node:url';

/** A file of docs/. */
export const docPath = (name: string): string => fileURLToPath(new URL(`../../docs/${name}`, import.meta.url));
export const TROUBLESHOOTING_DOC = docPath('troubleshooting.md');

export interface Heading {
  level: number;
  text: string;
  anchor: string;
  line: number;
}

export interface Table {
  /** The nearest level-2 and level-3 headings above the table. */
  h2: string | undefined;
  h3: string | undefined;
  header: string[];
  rows: string[][];
  line: number;
}

export interface Fence {
  lang: string;
  body: string;
  line: number;
}

export interface Markdown {
  headings: Heading[];
  tables: Table[];
  fences: Fence[];
  links: { target: string; line: number }[];
}

/** The anchor GitHub makes of a heading (before numbering repeats). */
export function slug(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
}

/** The cells of a table row: split at unescaped pipes, the escapes undone, trimmed. */
export function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.replace(/\\\|/g, '|').trim());
}

export function parseMarkdown(text: string): Markdown {
  const lines = text.split('\n');
  const md: Markdown = { headings: [], tables: [], fences: [], links: [] };
  const seen = new Map<string, number>();
  let h2: string | undefined;
  let h3: string | undefined;
  let fence: Fence | undefined;
  let table: Table | undefined;
  lines.forEach((line, i) => {
    const n = i + 1;
    const opening = /^```(\S*)/.exec(line);
    if (fence !== undefined) {
      if (line.startsWith('```')) {
        md.fences.push(fence);
        fence = undefined;
      } else {
        fence.body += `${line}\n`;
      }
      return;
    }
    if (opening !== null) {
      fence = { lang: opening[1] ?? '', body: '', line: n };
      table = undefined;
      return;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading?.[1] !== undefined && heading[2] !== undefined) {
      const textOf = heading[2].trim();
      const base = slug(textOf);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      md.headings.push({ level: heading[1].length, text: textOf, anchor: count === 0 ? base : `${base}-${count}`, line: n });
      if (heading[1].length <= 2) h3 = undefined;
      if (heading[1].length === 2) h2 = textOf;
      if (heading[1].length === 3) h3 = textOf;
      table = undefined;
      return;
    }
    if (line.trim().startsWith('|')) {
      if (table === undefined) {
        table = { h2, h3, header: cells(line), rows: [], line: n };
        md.tables.push(table);
      } else if (!/^\|?\s*:?-{3,}/.test(line.trim())) {
        table.rows.push(cells(line));
      }
    } else {
      table = undefined;
    }
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) if (m[1] !== undefined) md.links.push({ target: m[1], line: n });
  });
  return md;
}

/** A cell that names one identifier in code font: `Name`. */
export function codeName(cell: string | undefined): string | undefined {
  return /^`([A-Za-z][\w-]*)`$/.exec(cell ?? '')?.[1];
}
