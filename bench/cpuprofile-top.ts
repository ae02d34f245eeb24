/**
 * Where the time goes in a V8 CPU profile (`node --cpu-prof`, e.g. from `npm run bench -- --profile DIR`):
 * time per owning area (our folders, each package: Node internals and syscalls count for their
 * caller), self and inclusive time per function, and inclusive time per area. Idle time is left out
 * of the percentages.
 *
 *   npx tsx bench/cpuprofile-top.ts DIR/CPU.….cpuprofile [--top 30] [--match engine]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const root = relative('/', process.cwd());

function where(url: string): string {
  const path = url.replace(/^file:\/\//, '').replace(`/${root}/`, '');
  return path;
}

/** node_modules/<pkg>, our top folder (src/engine, flows …), node:internal, or a V8 pseudo-frame. */
function area(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = where(url);
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (m) return `pkg ${m[1]}`;
  if (path.startsWith('node:')) return path.split('/').slice(0, 2).join('/');
  const parts = path.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : parts[0]!;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'}  ${url ? `${where(url)}:${lineNumber + 1}` : ''}`.trim();
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '30' }, match: { type: 'string' } }, allowPositionals: true });
  const file = positionals[0];
  if (!file) throw new Error('usage: cpuprofile-top.ts FILE.cpuprofile [--top 30] [--match text]');
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  /** Each sample's time given to the nearest frame that is a package or our code (Node internals and native work count for their caller). */
  const owner = new Map<string, number>();
  const ownerFn = new Map<string, number>();
  const incl = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(p.samples[i]!)!;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    total += dt;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
    let own: ProfileNode | undefined;
    for (let id: number | undefined = leaf.id; id !== undefined && !own; id = parent.get(id)) {
      const a = area(byId.get(id)!);
      if (!a.startsWith('node:') && !a.startsWith('(')) own = byId.get(id)!;
    }
    const ownArea = own ? area(own) : area(leaf);
    owner.set(ownArea, (owner.get(ownArea) ?? 0) + dt);
    const ownLabel = own ? label(own) : label(leaf);
    ownerFn.set(ownLabel, (ownerFn.get(ownLabel) ?? 0) + dt);
    const seenFn = new Set<string>();
    const seenArea = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(root)') break;
      const l = label(n);
      if (!seenFn.has(l)) {
        seenFn.add(l);
        incl.set(l, (incl.get(l) ?? 0) + dt);
      }
      const a = area(n);
      if (!seenArea.has(a)) {
        seenArea.add(a);
        areas.set(a, (areas.get(a) ?? 0) + dt);
      }
    }
  }
  const top = Number(values.top);
  const pct = (ms: number) => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
  const show = (title: string, m: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    const rows = [...m].filter(([k]) => !values.match || k.includes(values.match)).sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [k, ms] of rows) process.stdout.write(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${k}\n`);
  };
  process.stdout.write(`busy ${total.toFixed(0)} ms, idle ${idle.toFixed(0)} ms (percentages are of busy time)\n`);
  show('Time by owning area (Node internals, native code and I/O syscalls counted for the package or file that called them; sums to 100%)', owner);
  show('Time by owning function (same rule)', ownerFn);
  show('Inclusive time by area (a frame counts once per sample per area)', areas);
  show('Self time by function', self);
  show('Inclusive time by function', incl);
}

main();
