// Just enough of a TypeScript lexer to read values out of the sources without running them:
// which characters are code (not comments, strings or regular expressions), which brackets pair,
// and what string values an expression can take (literals, through constants and object maps,
// both branches of a ternary, either side of ?? and ||). The docs' tests use it to find the
// condition reasons and metric names the code uses, so the reference cannot drift from the code.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CODE = 0;
const STRING = 1;
const TEMPLATE = 2;
const COMMENT = 3;
const REGEX = 4;

/** What an expression evaluates to, as far as the source alone tells. */
export interface Values {
  literals: Set<string>;
  /** Template literals with substitutions that could not be resolved: their source text. */
  templates: Set<string>;
  /** Some part is a call, a parameter or anything else only running the code would tell. */
  unresolved: boolean;
}

const emptyValues = (): Values => ({ literals: new Set(), templates: new Set(), unresolved: false });

function merge(into: Values, from: Values): Values {
  for (const l of from.literals) into.literals.add(l);
  for (const t of from.templates) into.templates.add(t);
  into.unresolved ||= from.unresolved;
  return into;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const REGEX_BEFORE = '(,=:[!&|?{};+-*%<>~^';

/** One source file, lexed. Positions are offsets into `text`. */
export class Source {
  readonly path: string;
  readonly text: string;
  readonly #kind: Uint8Array;
  readonly #partner: Int32Array;

  constructor(path: string, text: string) {
    this.path = path;
    this.text = text;
    this.#kind = new Uint8Array(text.length);
    this.#partner = new Int32Array(text.length).fill(-1);
    this.#lex();
  }

  isCode(i: number): boolean {
    return this.#kind[i] === CODE;
  }

  /** Whether a string or template literal opens at `i`. */
  isLiteralStart(i: number): boolean {
    const k = this.#kind[i];
    return (k === STRING || k === TEMPLATE) && '\'"`'.includes(this.text[i] ?? '') && (i === 0 || this.#kind[i - 1] !== k);
  }

  /** The closing backtick of the template literal that opens at `start`. */
  templateEnd(start: number): number {
    let i = start + 1;
    while (i < this.text.length) {
      if (this.#kind[i] === CODE) {
        const p = this.#partner[i] ?? -1;
        i = p > i ? p + 1 : i + 1;
        continue;
      }
      if (this.text[i] === '\\') {
        i += 2;
        continue;
      }
      if (this.text[i] === '`') return i;
      i++;
    }
    return i;
  }

  /** Matches of `re` (global) that start in code. */
  matches(re: RegExp): RegExpExecArray[] {
    return [...this.text.matchAll(re)].filter((m) => this.isCode(m.index));
  }

  /** The bracket that pairs with the one at `i`, or -1. */
  partner(i: number): number {
    return this.#partner[i] ?? -1;
  }

  /** The first code position at or after `i` that is not white space. */
  skipSpace(i: number): number {
    let j = i;
    while (j < this.text.length && (/\s/.test(this.text[j] ?? '') || this.#kind[j] === COMMENT)) j++;
    return j;
  }

  /** The last code position before `i` that is not white space, or -1. */
  previousCode(i: number): number {
    let j = i - 1;
    while (j >= 0 && (/\s/.test(this.text[j] ?? '') || this.#kind[j] === COMMENT)) j--;
    return j;
  }

  /** Where the expression starting at `start` ends: at the first of `stops` outside brackets, strings and comments. */
  expressionEnd(start: number, stops = ',;)]}'): number {
    let i = start;
    while (i < this.text.length) {
      const c = this.text[i] ?? '';
      if (this.#kind[i] === CODE) {
        if (stops.includes(c)) return i;
        const p = this.#partner[i] ?? -1;
        if ('([{'.includes(c) && p > i) {
          i = p + 1;
          continue;
        }
      }
      i++;
    }
    return i;
  }

  /** The innermost { } around `pos`: its two positions. */
  enclosingBrace(pos: number): [number, number] | undefined {
    let best: [number, number] | undefined;
    for (let i = pos - 1; i >= 0; i--) {
      if (this.text[i] !== '{' || this.#kind[i] !== CODE) continue;
      const close = this.#partner[i] ?? -1;
      if (close > pos) {
        best = [i, close];
        break;
      }
    }
    return best;
  }

  /**
   * The entries of an object literal or type literal between `open` and `close`: key (undefined
   * for spreads and computed keys) and the value's range (the key itself for a shorthand).
   */
  entries(open: number, close: number): { key: string | undefined; start: number; end: number; shorthand: boolean }[] {
    const out: { key: string | undefined; start: number; end: number; shorthand: boolean }[] = [];
    let i = open + 1;
    while (i < close) {
      const begin = this.skipSpace(i);
      if (begin >= close) break;
      const end = Math.min(this.expressionEnd(begin, ',;}'), close);
      const part = this.text.slice(begin, end);
      const keyed = /^(?:readonly\s+)?([A-Za-z_$][\w$]*|'[^']*'|"[^"]*")\s*\??\s*:/.exec(part);
      if (keyed?.[1] !== undefined && this.isCode(begin)) {
        out.push({ key: keyed[1].replace(/^['"]|['"]$/g, ''), start: begin + keyed[0].length, end, shorthand: false });
      } else if (IDENT.test(part.trim())) {
        out.push({ key: part.trim(), start: begin, end, shorthand: true });
      } else {
        out.push({ key: undefined, start: begin, end, shorthand: false });
      }
      i = end + 1;
    }
    return out;
  }

  /** What the expression in [start, end) can evaluate to. */
  values(start: number, end: number, depth = 0): Values {
    const s = this.skipSpace(start);
    let e = end;
    while (e > s && /\s/.test(this.text[e - 1] ?? '')) e--;
    if (s >= e || depth > 8) return { ...emptyValues(), unresolved: true };
    // (expr), expr as T, expr satisfies T, expr!
    if (this.text[s] === '(' && this.#partner[s] === e - 1) return this.values(s + 1, e - 1, depth + 1);
    const asAt = this.#topLevel(s, e, / (?:as|satisfies) /y);
    if (asAt !== undefined) return this.values(s, asAt, depth + 1);
    if (this.text[e - 1] === '!' && this.isCode(e - 1)) e--;

    // cond ? a : b: the condition is not a value.
    const question = this.#topLevel(s, e, /(?<!\?)\?(?![.?])/y);
    if (question !== undefined) {
      const colon = this.#ternaryColon(question + 1, e);
      if (colon !== undefined) return merge(this.values(question + 1, colon, depth + 1), this.values(colon + 1, e, depth + 1));
    }
    for (const op of [/\?\?/y, /\|\|/y]) {
      const at = this.#topLevel(s, e, op);
      if (at !== undefined) return merge(this.values(s, at, depth + 1), this.values(at + 2, e, depth + 1));
    }

    const text = this.text.slice(s, e);
    if ((text[0] === '\'' || text[0] === '"') && this.#kind[s] === STRING && this.#spans(s, e, STRING)) {
      return { ...emptyValues(), literals: new Set([unquote(text)]) };
    }
    if (text[0] === '`' && this.#kind[s] === TEMPLATE) {
      const parts = this.#templateParts(s, e);
      if (parts === undefined) return { ...emptyValues(), unresolved: true };
      if (parts.every((p) => typeof p === 'string')) return { ...emptyValues(), literals: new Set([parts.join('')]) };
      return this.#expandTemplate(text, parts, depth);
    }
    if (IDENT.test(text)) return this.constValues(text, depth + 1);
    const member = /^([A-Za-z_$][\w$]*)\.([A-Za-z_$][\w$]*)$/.exec(text);
    if (member?.[1] !== undefined && member[2] !== undefined) return this.#mapValues(member[1], member[2], depth + 1);
    const index = /^([A-Za-z_$][\w$]*)\s*\[/.exec(text);
    if (index?.[1] !== undefined) {
      const open = s + index[0].length - 1;
      if (this.#partner[open] === e - 1) return this.#mapValues(index[1], undefined, depth + 1);
    }
    return { ...emptyValues(), unresolved: true };
  }

  /** The values of `const name = …` (every declaration of that name in the file). */
  constValues(name: string, depth = 0): Values {
    const decls = this.#constDeclarations(name);
    if (decls.length === 0) return { ...emptyValues(), unresolved: true };
    const out = emptyValues();
    for (const [start, end] of decls) merge(out, this.values(start, end, depth + 1));
    return out;
  }

  /** The values of every entry of `const name = [ … ]` or `{ … }`. */
  entryValues(name: string): Values {
    return this.#mapValues(name, undefined, 0);
  }

  /** Ranges of the initialisers of `const name`. */
  #constDeclarations(name: string): [number, number][] {
    const re = new RegExp(`\\bconst\\s+${name.replace(/\$/g, '\\$')}\\s*(?::[^=;]+)?=(?![=>])`, 'g');
    return this.matches(re).map((m) => {
      const start = m.index + m[0].length;
      return [start, this.expressionEnd(start, ',;)]}')];
    });
  }

  /** A constant object (or array) map: the value of `key`, or of every entry. */
  #mapValues(name: string, key: string | undefined, depth: number): Values {
    const out = emptyValues();
    const decls = this.#constDeclarations(name);
    if (decls.length === 0) return { ...out, unresolved: true };
    for (const [start, end] of decls) {
      const s = this.skipSpace(start);
      const close = this.#partner[s] ?? -1;
      if ((this.text[s] !== '{' && this.text[s] !== '[') || close < 0 || close >= end) {
        out.unresolved = true;
        continue;
      }
      if (this.text[s] === '[') {
        for (const [a, b] of this.#elements(s, close)) merge(out, this.values(a, b, depth + 1));
        continue;
      }
      for (const entry of this.entries(s, close)) {
        if (key !== undefined && entry.key !== key) continue;
        merge(out, entry.shorthand ? this.constValues(entry.key ?? '', depth + 1) : this.values(entry.start, entry.end, depth + 1));
      }
    }
    return out;
  }

  #elements(open: number, close: number): [number, number][] {
    const out: [number, number][] = [];
    let i = open + 1;
    while (i < close) {
      const end = Math.min(this.expressionEnd(i, ',]'), close);
      if (this.text.slice(i, end).trim() !== '') out.push([i, end]);
      i = end + 1;
    }
    return out;
  }

  /** The first position in [s, e) outside brackets where `re` (sticky) matches in code. */
  #topLevel(s: number, e: number, re: RegExp): number | undefined {
    let i = s;
    while (i < e) {
      if (this.#kind[i] === CODE) {
        re.lastIndex = i;
        if (re.test(this.text) && re.lastIndex <= e) return i;
        const p = this.#partner[i] ?? -1;
        if ('([{'.includes(this.text[i] ?? '') && p > i) {
          i = p + 1;
          continue;
        }
      }
      i++;
    }
    return undefined;
  }

  /** The ':' that ends the first branch of a ternary whose '?' is just before `s`. */
  #ternaryColon(s: number, e: number): number | undefined {
    let nested = 0;
    let i = s;
    while (i < e) {
      const c = this.text[i] ?? '';
      if (this.#kind[i] === CODE) {
        const p = this.#partner[i] ?? -1;
        if ('([{'.includes(c) && p > i) {
          i = p + 1;
          continue;
        }
        const next = this.text[i + 1] ?? '';
        if (c === '?' && next !== '.' && next !== '?' && this.text[i - 1] !== '?') nested++;
        else if (c === ':') {
          if (nested === 0) return i;
          nested--;
        }
      }
      i++;
    }
    return undefined;
  }

  #spans(s: number, e: number, kind: number): boolean {
    for (let i = s; i < e; i++) if (this.#kind[i] !== kind) return false;
    return true;
  }

  /** A template literal's parts: text, or the range of a substitution. */
  #templateParts(s: number, e: number): (string | [number, number])[] | undefined {
    const parts: (string | [number, number])[] = [];
    let text = '';
    let i = s + 1;
    while (i < e - 1) {
      if (this.text[i] === '$' && this.text[i + 1] === '{' && this.#kind[i + 1] === CODE) {
        const close = this.#partner[i + 1] ?? -1;
        if (close < 0) return undefined;
        parts.push(text, [i + 2, close]);
        text = '';
        i = close + 1;
        continue;
      }
      text += this.text[i] ?? '';
      i++;
    }
    parts.push(text);
    return parts;
  }

  /** Every combination of the substitutions' values; the template itself when one is not known. */
  #expandTemplate(source: string, parts: (string | [number, number])[], depth: number): Values {
    let combos = [''];
    for (const p of parts) {
      if (typeof p === 'string') {
        combos = combos.map((c) => c + p);
        continue;
      }
      const v = this.values(p[0], p[1], depth + 1);
      if (v.unresolved || v.templates.size > 0 || v.literals.size === 0) return { ...emptyValues(), templates: new Set([source]) };
      combos = combos.flatMap((c) => [...v.literals].map((l) => c + l));
    }
    return { ...emptyValues(), literals: new Set(combos) };
  }

  #lex(): void {
    const t = this.text;
    const kind = this.#kind;
    const stack: number[] = [];
    // Open template substitutions: the bracket stack depth at their '${'.
    const templates: number[] = [];
    let i = 0;
    const template = (from: number): number => {
      // From just after a backtick or a closing '}' of a substitution, to the next '${' or the end.
      let j = from;
      while (j < t.length) {
        const c = t[j];
        if (c === '\\') {
          kind[j] = TEMPLATE;
          kind[j + 1] = TEMPLATE;
          j += 2;
          continue;
        }
        if (c === '`') {
          kind[j] = TEMPLATE;
          return j + 1;
        }
        if (c === '$' && t[j + 1] === '{') {
          kind[j] = TEMPLATE;
          kind[j + 1] = CODE;
          stack.push(j + 1);
          templates.push(stack.length);
          return j + 2;
        }
        kind[j] = TEMPLATE;
        j++;
      }
      return j;
    };
    while (i < t.length) {
      const c = t[i] ?? '';
      const next = t[i + 1] ?? '';
      if (c === '/' && next === '/') {
        while (i < t.length && t[i] !== '\n') kind[i++] = COMMENT;
        continue;
      }
      if (c === '/' && next === '*') {
        const end = t.indexOf('*/', i + 2);
        const stop = end < 0 ? t.length : end + 2;
        while (i < stop) kind[i++] = COMMENT;
        continue;
      }
      if (c === '\'' || c === '"') {
        kind[i++] = STRING;
        while (i < t.length && t[i] !== c && t[i] !== '\n') {
          if (t[i] === '\\') kind[i++] = STRING;
          kind[i++] = STRING;
        }
        kind[i++] = STRING;
        continue;
      }
      if (c === '`') {
        kind[i] = TEMPLATE;
        i = template(i + 1);
        continue;
      }
      if (c === '/' && this.#regexMayStart(i)) {
        kind[i++] = REGEX;
        let inClass = false;
        while (i < t.length && t[i] !== '\n') {
          const r = t[i];
          kind[i++] = REGEX;
          if (r === '\\') kind[i++] = REGEX;
          else if (r === '[') inClass = true;
          else if (r === ']') inClass = false;
          else if (r === '/' && !inClass) break;
        }
        while (i < t.length && /[a-z]/.test(t[i] ?? '')) kind[i++] = REGEX;
        continue;
      }
      kind[i] = CODE;
      if (c === '(' || c === '[' || c === '{') stack.push(i);
      else if (c === ')' || c === ']' || c === '}') {
        const open = stack.pop();
        if (open !== undefined) {
          this.#partner[open] = i;
          this.#partner[i] = open;
        }
        if (c === '}' && templates.length > 0 && templates[templates.length - 1] === stack.length + 1) {
          templates.pop();
          i = template(i + 1);
          continue;
        }
      }
      i++;
    }
  }

  /** A '/' starts a regular expression where a value is expected, not after one. */
  #regexMayStart(i: number): boolean {
    const p = this.previousCode(i);
    if (p < 0) return true;
    const c = this.text[p] ?? '';
    if (c !== '' && REGEX_BEFORE.includes(c)) return true;
    return /\b(?:return|typeof|case|in|of|void|throw)$/.test(this.text.slice(Math.max(0, p - 6), p + 1));
  }
}

function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** The non-test TypeScript files under `dir` (relative to the repository), sorted. */
export async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.ts') && !/\.test(-support)?\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(relative(ROOT, path));
    }
  };
  await walk(join(ROOT, dir));
  return out.sort();
}

export async function readSources(dir: string): Promise<Source[]> {
  return Promise.all((await sourceFiles(dir)).map(async (f) => new Source(f, await readFile(join(ROOT, f), 'utf8'))));
}
