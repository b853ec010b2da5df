// `$(VAR)` expansion exactly as the kubelet does it for env values, command, args and subPathExpr
// (a port of k8s.io/kubernetes third_party/forked/golang/expansion): `$$` is an escaped `$`, a
// reference to an unknown variable is left as written, an unterminated `$(` is copied verbatim.

/** Returns the value of a variable, or undefined when it is not defined. */
export type Lookup = (name: string) => string | undefined;

export function expand(input: string, lookup: Lookup): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const { text, isVar, advance } = readVariable(input.slice(cursor + 1));
    out += isVar ? (lookup(text) ?? `$(${text})`) : text;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

function readVariable(rest: string): { text: string; isVar: boolean; advance: number } {
  const first = rest[0] ?? '';
  if (first === '$') return { text: '$', isVar: false, advance: 1 };
  if (first === '(') {
    const close = rest.indexOf(')', 1);
    if (close !== -1) return { text: rest.slice(1, close), isVar: true, advance: close + 1 };
    // Incomplete reference: emit "$(" and carry on scanning after it.
    return { text: '$(', isVar: false, advance: 1 };
  }
  return { text: '$' + first, isVar: false, advance: 1 };
}

/** A lookup over several maps, the first that defines the name wins. */
export function lookupIn(...maps: ReadonlyArray<ReadonlyMap<string, string> | Readonly<Record<string, string>>>): Lookup {
  return (name) => {
    for (const map of maps) {
      const value = isMap(map) ? map.get(name) : Object.hasOwn(map, name) ? map[name] : undefined;
      if (value !== undefined) return value;
    }
    return undefined;
  };
}

function isMap(m: ReadonlyMap<string, string> | Readonly<Record<string, string>>): m is ReadonlyMap<string, string> {
  return m instanceof Map;
}
