// `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: where a V8 CPU profile (from
// `npm run bench -- --profile DIR`) spent its time: self time by function, and total time by file.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarize(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);

  const label = (n: ProfileNode): string => {
    const file = n.callFrame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
    return `${n.callFrame.functionName || '(anonymous)'} ${file}${file ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  };
  const selfBy = new Map<string, number>();
  const fileBy = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    selfBy.set(label(n), (selfBy.get(label(n)) ?? 0) + us);
    // Inclusive time per file: count each file once per stack.
    const files = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)?.callFrame.url ?? '';
      if (url) files.add(url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/'));
    }
    for (const f of files) fileBy.set(f, (fileBy.get(f) ?? 0) + us);
  }
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`total ${(total / 1e6).toFixed(2)} s sampled`, '', 'self time:'];
  for (const [k, us] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(us)}  ${k}`);
  lines.push('', 'inclusive time by file:');
  for (const [k, us] of [...fileBy].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(us)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.js')) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(n ?? 25)));
}
