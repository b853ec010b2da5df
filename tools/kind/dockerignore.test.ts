// The .dockerignore matcher against the rules Docker documents (docs.docker.com, "Dockerignore
// files") and the moby matcher's behaviour for parent folders and `!`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIgnored, parseDockerignore, prunable } from './dockerignore.ts';

const ignored = (patterns: string, path: string): boolean => isIgnored(parseDockerignore(patterns), path);

describe('.dockerignore matching', () => {
  it('matches `*` and `?` within one path segment, from the context root', () => {
    assert.equal(ignored('*/temp*', 'somedir/temporary.txt'), true);
    assert.equal(ignored('*/temp*', 'temp'), false);
    assert.equal(ignored('*/*/temp*', 'somedir/subdir/temporary.txt'), true);
    assert.equal(ignored('*/*/temp*', 'somedir/temporary.txt'), false);
    assert.equal(ignored('temp?', 'tempa'), true);
    assert.equal(ignored('temp?', 'temp/a'), false);
    assert.equal(ignored('/temp?', 'tempb'), true, 'a leading / is the root');
    assert.equal(ignored('*.md', 'docs/x.md'), false, '* does not cross /');
  });

  it('matches `**` across any number of folders, none included', () => {
    assert.equal(ignored('**/*.go', 'a.go'), true);
    assert.equal(ignored('**/*.go', 'x/y/z/a.go'), true);
    assert.equal(ignored('src/**/*.test.ts', 'src/a.test.ts'), true);
    assert.equal(ignored('src/**/*.test.ts', 'src/a/b/c.test.ts'), true);
    assert.equal(ignored('src/**/*.test.ts', 'test/a.test.ts'), false);
    assert.equal(ignored('docs/**', 'docs/a/b.md'), true);
  });

  it('takes a folder\'s content with the folder', () => {
    assert.equal(ignored('node_modules', 'node_modules/zod/package.json'), true);
    assert.equal(ignored('*', 'src/main.ts'), true);
    assert.equal(ignored('src', 'srcs/main.ts'), false);
  });

  it('lets paths back in with `!`, the last matching line deciding', () => {
    const docs = '*.md\n!README*.md\nREADME-secret.md';
    assert.equal(ignored(docs, 'CHANGES.md'), true);
    assert.equal(ignored(docs, 'README.md'), false);
    assert.equal(ignored(docs, 'README-secret.md'), true);
    const allow = '*\n!package.json\n!src\n**/*.test.ts';
    assert.equal(ignored(allow, 'package.json'), false);
    assert.equal(ignored(allow, 'package-lock.json'), true);
    assert.equal(ignored(allow, 'src/cli/run.ts'), false);
    assert.equal(ignored(allow, 'src/cli/run.test.ts'), true);
    assert.equal(ignored(allow, 'test/cluster/cluster.ts'), true);
    assert.equal(ignored(allow, '.git/HEAD'), true);
  });

  it('skips comments and blank lines, and refuses what it does not implement', () => {
    assert.equal(ignored('# *\n\n', 'a'), false);
    assert.throws(() => parseDockerignore('*.[ch]'), /line 1: .*\[ \] or \\/);
    assert.throws(() => parseDockerignore('ok\n!'), /line 2: .*matches nothing/);
  });

  it('prunes a left-out folder only when no `!` line could let something in it back in', () => {
    const rules = parseDockerignore('*\n!src\n**/*.test.ts');
    assert.equal(prunable(rules, 'node_modules'), true);
    assert.equal(prunable(rules, 'src'), false);
    assert.equal(prunable(parseDockerignore('*\n!**/keep'), 'node_modules'), false);
  });
});
