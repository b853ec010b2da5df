// .dockerignore as Docker reads it (moby/patternmatcher), for the patterns it is written with:
// `*` (within one path segment), `?`, `**` (any number of segments), a leading `!` (let back in),
// comments and blank lines. Character classes and escapes are refused rather than half-matched.
// A path is left out when the last pattern matching it, or one of its parent folders, leaves it
// out; a parent folder left out takes everything in it, unless a later `!` lets a path back in.

export interface IgnoreRule {
  /** The pattern as cleaned: no `!`, no leading or trailing `/`. */
  pattern: string;
  /** `!pattern`: lets back in what matches. */
  include: boolean;
  /** 1-based line in .dockerignore. */
  line: number;
  regex: RegExp;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    let pattern = raw.trim();
    if (pattern === '' || pattern.startsWith('#')) return;
    const include = pattern.startsWith('!');
    if (include) pattern = pattern.slice(1).trim();
    if (/[[\]\\]/.test(pattern)) throw new Error(`.dockerignore line ${line}: "${raw}" uses [ ] or \\, which this matcher does not implement`);
    pattern = clean(pattern);
    if (pattern === '') throw new Error(`.dockerignore line ${line}: "${raw}" matches nothing once cleaned`);
    rules.push({ pattern, include, line, regex: compile(pattern) });
  });
  return rules;
}

/** Like Go's filepath.Clean, for the relative paths of a build context. */
function clean(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` is `**`; at the end it takes everything, elsewhere any number of whole segments.
        if (pattern[i + 1] === '/') i++;
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else {
      re += ch.replace(/[.+^${}()|]/g, '\\$&');
    }
  }
  return new RegExp(re + '$');
}

/** Whether `path` (relative to the context, `/`-separated) is left out of the build context. */
export function isIgnored(rules: readonly IgnoreRule[], path: string): boolean {
  const file = clean(path);
  const segments = file.split('/');
  const parents = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    // A rule can only change the verdict: an ignore rule on what is out, or a `!` on what is in, is moot.
    if (rule.include !== ignored) continue;
    if (rule.regex.test(file) || parents.some((p) => rule.regex.test(p))) ignored = !rule.include;
  }
  return ignored;
}

/**
 * Whether nothing under folder `dir` can be in the context: the folder is left out and no `!`
 * rule could let anything in it back in (its fixed prefix is unrelated to the folder). Lets a
 * walk of the context skip node_modules and .git.
 */
export function prunable(rules: readonly IgnoreRule[], dir: string): boolean {
  if (!isIgnored(rules, dir)) return false;
  const folder = clean(dir) + '/';
  return rules.filter((r) => r.include).every((r) => {
    const fixed = /^[^*?]*/.exec(r.pattern)?.[0] ?? '';
    return !(fixed.startsWith(folder) || folder.startsWith(fixed));
  });
}
