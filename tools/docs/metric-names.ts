// Every metric name the sources spell out: string literals that are a whole metric name with one of
// the project's prefixes, and templates that compose one (`zcsp_${x}_total`: kept as a pattern).
// metrics.test.ts compares them with what the generator reads from the registries, so a metric
// registered somewhere the generator does not build cannot go undocumented.
import type { Source } from './source-scan.ts';

export const METRIC_PREFIXES = ['zcsp_', 'process_'] as const;

export interface NameSite {
  /** The name, or the template's source text when composed. */
  name: string;
  /** For a composed name: what it can expand to. */
  pattern?: RegExp;
  file: string;
  line: number;
}

const START = new RegExp(String.raw`(['"\`])((?:${METRIC_PREFIXES.join('|')})[A-Za-z0-9_:]*)`, 'g');
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function metricNameSites(sources: readonly Source[]): NameSite[] {
  const out: NameSite[] = [];
  for (const s of sources) {
    for (const m of s.text.matchAll(START)) {
      const quote = m[1] ?? '';
      const name = m[2] ?? '';
      if (!s.isLiteralStart(m.index)) continue;
      const line = s.text.slice(0, m.index).split('\n').length;
      const after = m.index + 1 + name.length;
      if (quote !== '`') {
        // A whole literal only: 'zcsp_x{…}' in a message is a mention, not a registration.
        if (s.text[after] === quote) out.push({ name, file: s.path, line });
        continue;
      }
      const end = s.templateEnd(m.index);
      const body = s.text.slice(m.index + 1, end);
      if (!body.includes('${')) {
        if (after === end) out.push({ name, file: s.path, line });
        continue;
      }
      const pattern = new RegExp(`^${body.split(/\$\{[^}]*\}/).map(escape).join('[A-Za-z0-9_:]+')}$`);
      if (/^[A-Za-z0-9_:]*(\$\{[^}]*\}[A-Za-z0-9_:]*)+$/.test(body)) out.push({ name: `\`${body}\``, pattern, file: s.path, line });
    }
  }
  return out;
}
