/**
 * `/metrics` for a server of several processes: each process's exposition, its samples labelled with the process
 * (`worker="1"`, ..., `worker="primary"`), merged so each metric family is listed once with all its samples, as
 * the text format requires. Sums across workers are left to the query (`sum without (worker) (...)`).
 */

interface Family {
  help: string;
  type: string;
  samples: string[];
}

/** Merge the expositions of several processes, labelling each sample with its process. */
export function mergeExpositions(parts: readonly { worker: string; text: string }[]): string {
  const families = new Map<string, Family>();
  for (const { worker, text } of parts) {
    let current: Family | null = null;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        const [, kind, name] = meta as unknown as [string, 'HELP' | 'TYPE', string];
        current = families.get(name) ?? null;
        if (!current) {
          current = { help: '', type: '', samples: [] };
          families.set(name, current);
        }
        if (kind === 'HELP' && current.help === '') current.help = line;
        if (kind === 'TYPE' && current.type === '') current.type = line;
        continue;
      }
      if (line.startsWith('#') || !current) continue;
      current.samples.push(withLabel(line, 'worker', worker));
    }
  }
  const out: string[] = [];
  for (const family of families.values()) {
    if (family.help) out.push(family.help);
    if (family.type) out.push(family.type);
    out.push(...family.samples);
  }
  return out.join('\n') + '\n';
}

/** A sample line with `name="value"` as its first label. */
export function withLabel(sample: string, name: string, value: string): string {
  const label = `${name}="${value.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`;
  const brace = sample.indexOf('{');
  const space = sample.indexOf(' ');
  if (brace !== -1 && (space === -1 || brace < space)) {
    const empty = sample[brace + 1] === '}';
    return `${sample.slice(0, brace + 1)}${label}${empty ? '' : ','}${sample.slice(brace + 1)}`;
  }
  return space === -1 ? sample : `${sample.slice(0, space)}{${label}}${sample.slice(space)}`;
}
