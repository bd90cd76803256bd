// Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per frame and per owner
// (our packages, each dependency, Node internals, GC). Relative weights stay meaningful on a
// loaded machine, where absolute req/s do not.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FrameWeight {
  frame: string;
  owner: string;
  /** Share of the busy (non-idle) samples, in percent. */
  selfPct: number;
}

export interface ProfileSummary {
  /** Busy time covered by the profile, ms (idle excluded). */
  busyMs: number;
  topSelf: FrameWeight[];
  owners: Array<{ owner: string; selfPct: number }>;
  /** Inclusive share (the frame and everything it called) of frames worth watching. */
  inclusive: Array<{ frame: string; pct: number }>;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Who owns a frame: `@tessera/<pkg>`, a dependency name, `node` internals, or a V8 bucket. */
export function ownerOf(url: string, functionName: string): string {
  if (SPECIAL.has(functionName)) return functionName;
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1] as string;
  const ours = /\/(packages|examples|bench)\/([^/]+)\//.exec(url);
  if (ours) return ours[1] === 'packages' ? `@tessera/${ours[2]}` : `${ours[1]}/${ours[2]}`;
  return url.replace(/^file:\/\//, '');
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (SPECIAL.has(functionName) || url === '') return functionName || '(anonymous)';
  const file = url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/(packages|examples|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

/**
 * Reads a profile and weighs its frames. `watch` lists function-name substrings whose
 * inclusive share is reported (e.g. a hook's name). `lastMs` keeps only the samples of the
 * profile's last milliseconds (the load, not the start-up: compiling and loading modules).
 */
export function summariseProfile(
  path: string,
  watch: string[] = [],
  options: { top?: number; lastMs?: number } = {},
): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const top = options.top ?? 15;
  const from = options.lastMs === undefined ? -Infinity : profile.endTime - options.lastMs * 1000;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from) continue;
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  let busy = 0;
  for (const [id, us] of selfUs) if (byId.get(id)?.callFrame.functionName !== '(idle)') busy += us;
  const pct = (us: number) => Math.round((us / Math.max(1, busy)) * 1000) / 10;

  const frames = new Map<string, { owner: string; us: number }>();
  const owners = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const name = frameName(node);
    const owner = ownerOf(node.callFrame.url, node.callFrame.functionName);
    const entry = frames.get(name) ?? { owner, us: 0 };
    entry.us += us;
    frames.set(name, entry);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
  }

  // Inclusive time: the subtree of every node whose function matches, counted once per sample
  // even when the function recurses (a matching ancestor stops the descent).
  const inclusive = watch.map((needle) => {
    let us = 0;
    const visit = (node: ProfileNode, inside: boolean) => {
      const here = inside || node.callFrame.functionName.includes(needle);
      if (here) us += selfUs.get(node.id) ?? 0;
      for (const child of node.children ?? []) {
        const next = byId.get(child);
        if (next) visit(next, here);
      }
    };
    const root = profile.nodes[0];
    if (root) visit(root, false);
    return { frame: needle, pct: pct(us) };
  });

  return {
    busyMs: Math.round(busy / 1000),
    topSelf: [...frames.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([frame, { owner, us }]) => ({ frame, owner, selfPct: pct(us) })),
    owners: [...owners.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([owner, us]) => ({ owner, selfPct: pct(us) })),
    inclusive,
  };
}
