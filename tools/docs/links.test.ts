import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { METRICS_DOC } from './metrics.ts';
import { TROUBLESHOOTING_DOC, parseMarkdown, slug } from './markdown.ts';

describe('the docs\' links', () => {
  it('makes anchors as GitHub does', () => {
    const md = parseMarkdown('# A\n## `kubectl zcsp`\n### Ready\n## B: c (d)\n### Ready\n');
    assert.deepEqual(md.headings.map((h) => h.anchor), ['a', 'kubectl-zcsp', 'ready', 'b-c-d', 'ready-1']);
    assert.equal(slug('Ports and the control API'), 'ports-and-the-control-api');
  });

  for (const doc of [METRICS_DOC, TROUBLESHOOTING_DOC]) {
    it(`lead to files and headings that exist, from ${doc.replace(/.*\/docs\//, 'docs/')}`, async () => {
      const md = parseMarkdown(await readFile(doc, 'utf8'));
      const broken: string[] = [];
      for (const link of md.links) {
        if (/^[a-z]+:/.test(link.target)) continue;
        const [path = '', anchor] = link.target.split('#');
        const file = path === '' ? doc : resolve(dirname(doc), path);
        const ok = await access(file).then(() => true, () => false);
        if (!ok) {
          broken.push(`line ${link.line}: ${link.target}: no such file`);
          continue;
        }
        if (anchor === undefined || !file.endsWith('.md')) continue;
        const anchors = parseMarkdown(await readFile(file, 'utf8')).headings.map((h) => h.anchor);
        if (!anchors.includes(anchor)) broken.push(`line ${link.line}: ${link.target}: no such heading`);
      }
      assert.deepEqual(broken, []);
      assert.ok(md.links.some((l) => l.target.startsWith('../README.md')), 'links to the README');
    });
  }
});
