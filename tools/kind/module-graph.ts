// The modules a program loads, found by reading its sources with the TypeScript parser: static
// imports and re-exports that survive type stripping (not `import type`), dynamic `import('…')`
// of literal paths, and files named by `new URL('…', import.meta.url)` (a worker's module, a
// folder of static files, package.json). Module files are followed; everything else is listed.
import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

export interface ModuleGraph {
  /** Absolute paths of the modules reached, entries included. */
  modules: string[];
  /** Relative imports whose file is not there. */
  missing: { from: string; specifier: string }[];
  /** Bare specifiers (packages and node: builtins), with a module importing each. */
  bare: Map<string, string>;
  /** `new URL('…', import.meta.url)` targets, absolute, with the module naming each. */
  resources: { from: string; path: string }[];
}

const MODULE = /\.(ts|js|mjs)$/;

export function moduleGraph(entries: readonly string[]): ModuleGraph {
  const graph: ModuleGraph = { modules: [], missing: [], bare: new Map(), resources: [] };
  const seen = new Set<string>();
  const queue = [...entries];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    graph.modules.push(file);
    const refs = references(file);
    for (const specifier of refs.imports) {
      if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
        if (!graph.bare.has(specifier)) graph.bare.set(specifier, file);
        continue;
      }
      const target = resolve(dirname(file), specifier);
      if (existsSync(target)) queue.push(target);
      else graph.missing.push({ from: file, specifier });
    }
    for (const url of refs.urls) {
      const path = resolve(dirname(file), url);
      graph.resources.push({ from: file, path });
      // A worker's module: what it imports is loaded too.
      if (MODULE.test(path) && existsSync(path)) queue.push(path);
    }
  }
  return graph;
}

/** The specifiers a module imports at run time, and the relative URLs it resolves against itself. */
export function references(file: string): { imports: string[]; urls: string[] } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const imports: string[] = [];
  const urls: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && node.importClause?.phaseModifier !== ts.SyntaxKind.TypeKeyword && ts.isStringLiteral(node.moduleSpecifier)) {
      imports.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      imports.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg !== undefined && ts.isStringLiteralLike(arg)) imports.push(arg.text);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL') {
      const [first, second] = node.arguments ?? [];
      if (second !== undefined && second.getText(source) === 'import.meta.url' && first !== undefined) {
        // Both branches of `cond ? './a.ts' : './a.js'` are candidates.
        const literals = ts.isConditionalExpression(first) ? [first.whenTrue, first.whenFalse] : [first];
        for (const l of literals) if (ts.isStringLiteralLike(l)) urls.push(l.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { imports, urls };
}

/** The package a bare specifier loads (`@scope/name/sub` → `@scope/name`), or undefined for a builtin. */
export function packageOf(specifier: string): string | undefined {
  if (isBuiltin(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
