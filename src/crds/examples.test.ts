import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { KINDS } from './kinds.ts';
import { fieldProblems } from './parse.ts';

const dir = new URL('../../examples/', import.meta.url);

describe('examples/', () => {
  it('has one of each kind, and every one parses', async () => {
    const seen = new Set<string>();
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(await readFile(new URL(file, dir), 'utf8'))) {
        assert.deepEqual(doc.errors, [], file);
        const object = doc.toJS() as { kind: string };
        const kind = KINDS.find((k) => k.kind === object.kind);
        if (kind === undefined) continue;
        const result = kind.schema.safeParse(object);
        assert.ok(result.success, `${file}: ${result.error === undefined ? '' : JSON.stringify(fieldProblems(result.error))}`);
        seen.add(kind.kind);
      }
    }
    assert.deepEqual([...seen].sort(), KINDS.map((k) => k.kind).sort());
  });
});
