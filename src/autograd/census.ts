// The census of live tensors: how many the program holds and what made them — an op's name while it runs, or
// 'tensor()', 'zeros()', … — kept as counters updated on creation, dispose() and garbage collection, so reading it
// costs nothing. It feeds memory().tensors, the out-of-memory message (who holds the memory), and a one-time
// warning when the count climbs past what programs hold on purpose, the usual sign of a loop that forgot tidy().
// Internal handles (a node's saved tensors) are not counted; their bytes are the backend's to report.
import { setHoldersReport } from '../backend/oom.js';

export const census = {
  /** Live tensors the program can see (memory().tensors). */
  live: 0,
  /** What is creating tensors right now: the running op (set by apply()) or a creation function; null: neither. */
  origin: null as string | null,
};

/** The origin of tensors created outside any op and creation function: tensor(), detach() of those, and the like. */
export const DIRECT = 'tensor()';

const liveByOrigin = new Map<string, number>();

/**
 * The live count that triggers the warning. A model's parameters, a dataset and a step's tensors come to tens or
 * hundreds; ten thousand at once means tensors are piling up. (From the count alone, growth cannot be told from
 * size: "it has doubled since it was half" is this same line; anything finer would need a notion of step.)
 */
const WARN_AT = 10000;
let warnAt = WARN_AT;

export function countTensor(origin: string): void {
  liveByOrigin.set(origin, (liveByOrigin.get(origin) ?? 0) + 1);
  if (++census.live === warnAt) warnOfGrowth();
}

export function uncountTensor(origin: string): void {
  census.live--;
  liveByOrigin.set(origin, liveByOrigin.get(origin)! - 1); // a zero stays: origins are few, and reused
}

/** Runs fn with `origin` as what creates tensors (for the creation functions). */
export function withOrigin<T>(origin: string, fn: () => T): T {
  const outer = census.origin;
  census.origin = origin;
  try {
    return fn();
  } finally {
    census.origin = outer;
  }
}

function warnOfGrowth(): void {
  warnAt = Infinity;
  console.warn(`wasmgrad: ${fmtCount(census.live)} tensors are alive (${byOrigin()}). Is a loop creating tensors ` +
    'without freeing them? Wrap each step in tidy(() => …), or dispose() the tensors you no longer need. ' +
    '(Shown once; warnOnLeaks(false) turns it off.)');
}

/** Turns the one-time warning when 10,000 tensors are alive at once on (again) or off. */
export function warnOnLeaks(on: boolean): void {
  warnAt = on ? WARN_AT : Infinity;
}

/**
 * For out-of-memory messages: "8,010 tensors are alive: 2,000 from 'linear', 2,000 from 'relu', 2,000 from 'add'
 * and 2,010 from 3 others; free those you no longer need with tidy() or dispose()".
 */
export function describeLiveTensors(): string {
  const n = census.live;
  if (n === 0) return 'No tensors are alive';
  return `${fmtCount(n)} tensor${n === 1 ? ' is' : 's are'} alive: ${byOrigin()}; ` +
    'free those you no longer need with tidy() or dispose()';
}

/** The live tensors by origin, largest first: three origins by name, the rest summed. */
function byOrigin(): string {
  const top = [...liveByOrigin].filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1]);
  const parts = top.slice(0, 3).map(([origin, count]) => `${fmtCount(count)} from ${label(origin)}`);
  const rest = top.slice(3);
  if (rest.length === 1) parts.push(`${fmtCount(rest[0]![1])} from ${label(rest[0]![0])}`);
  if (rest.length > 1) parts.push(`${fmtCount(rest.reduce((sum, [, count]) => sum + count, 0))} from ${rest.length} others`);
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0] ?? '';
}

const fmtCount = (n: number) => n.toLocaleString('en-US');
/** Ops are quoted ('matmul'); creation functions read as calls (zeros()). */
const label = (origin: string) => (origin.endsWith(')') ? origin : `'${origin}'`);

setHoldersReport(describeLiveTensors);
