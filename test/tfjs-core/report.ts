// What a run of TensorFlow.js's test suite means for the backend under test: the counts, the failures per
// describe block and kernel, and every way the include/exclude list (filters.ts) can be wrong. Pure: it sees the
// specs' results and the kernels each one dispatched, so it is tested on made-up runs too.
import type { Exclusion } from './filters.js';

export interface SpecResult {
  /** jasmine's full name: "<describe block> <test env> <flags> <nested describes> <it>". */
  name: string;
  status: 'passed' | 'failed' | 'excluded' | 'pending';
  messages: string[];
  /** The kernels the spec dispatched on the backend under test (none for a spec that did not run). */
  kernels: string[];
}

export interface SuiteRun {
  specs: SpecResult[];
  /** Failures outside any spec (beforeAll/afterAll of a block, an error while loading). */
  suiteErrors: { name: string; messages: string[] }[];
}

export interface Expectations {
  envName: string;
  /** The kernels the backend registers natively (not the fallbacks). */
  nativeKernels: readonly string[];
  /** For each native kernel, tfjs-core's describe blocks that test it (filters.ts). */
  kernelBlocks: Readonly<Record<string, readonly string[]>>;
  excludes: readonly Exclusion[];
}

export interface Failure {
  block: string;
  spec: string;
  /** The native kernels the failing spec dispatched. */
  kernels: string[];
  message: string;
}

export interface Report {
  counts: { specs: number; run: number; passed: number; failed: number; excluded: number; pending: number };
  excludedByReason: Record<string, number>;
  failures: Failure[];
  /** For each native kernel, the failing specs of its own describe blocks. */
  failuresByKernel: Record<string, number>;
  /** Everything that must make the run fail: failed specs, and a list that no longer matches the suite. */
  problems: string[];
}

/** Reason of the specs outside every describeWithFlags block. */
export const PLAIN_DESCRIBE = 'plain describe(): tests of tfjs-core itself (utilities, io, serialisation) that set no backend';

/** The describe block a spec belongs to: its name up to the test environment (null for plain describe()). */
export function blockOf(name: string, envName: string): string | null {
  const at = name.indexOf(` ${envName} `);
  return at < 0 ? null : name.slice(0, at);
}

/** Whether an exclusion applies to a spec, as tfjs's TestFilter matches: its full name contains `spec`. */
export function excludes(e: Exclusion, name: string, envName: string): boolean {
  return blockOf(name, envName) === e.block && (e.spec === undefined || name.includes(e.spec));
}

export function summarize(run: SuiteRun, x: Expectations): Report {
  const native = new Set(x.nativeKernels);
  const count = (status: SpecResult['status']) => run.specs.filter((s) => s.status === status).length;
  const counts = { specs: run.specs.length, run: count('passed') + count('failed'), passed: count('passed'),
    failed: count('failed'), excluded: count('excluded'), pending: count('pending') };
  const problems: string[] = [];

  const excludedByReason: Record<string, number> = {};
  for (const s of run.specs) {
    if (s.status !== 'excluded') continue;
    const reason = blockOf(s.name, x.envName) === null ? PLAIN_DESCRIBE
      : x.excludes.find((e) => excludes(e, s.name, x.envName))?.reason ?? 'not in filters.ts (a bug of the filter)';
    excludedByReason[reason] = (excludedByReason[reason] ?? 0) + 1;
  }

  const failures = run.specs.filter((s) => s.status === 'failed').map((s) => ({
    block: blockOf(s.name, x.envName) ?? '(plain describe)', spec: s.name,
    kernels: s.kernels.filter((k) => native.has(k)), message: s.messages[0] ?? '' }));
  for (const f of failures) problems.push(`failed: ${f.spec}: ${f.message}`);
  for (const e of run.suiteErrors) problems.push(`error in "${e.name}": ${e.messages.join('; ')}`);

  const blocks = new Set(run.specs.map((s) => blockOf(s.name, x.envName)));
  for (const e of x.excludes) {
    if (!run.specs.some((s) => excludes(e, s.name, x.envName))) {
      problems.push(`filters.ts excludes ${JSON.stringify(e.spec ?? '(whole block)')} of block "${e.block}", which matches no spec: remove it`);
    }
  }

  const failuresByKernel: Record<string, number> = {};
  for (const kernel of x.nativeKernels) {
    const own = x.kernelBlocks[kernel] ?? [];
    failuresByKernel[kernel] = failures.filter((f) => own.includes(f.block)).length;
    if (own.length === 0) {
      const callers = [...new Set(run.specs.filter((s) => s.kernels.includes(kernel)).map((s) => blockOf(s.name, x.envName)))];
      problems.push(`kernel ${kernel} is registered natively but filters.ts names no describe block that tests it ` +
        `(blocks that call it: ${callers.join(', ') || 'none'})`);
    }
    for (const block of own) {
      if (!blocks.has(block)) problems.push(`filters.ts: block "${block}" (for ${kernel}) is not in tfjs-core's suite`);
      else if (x.excludes.some((e) => e.block === block && e.spec === undefined)) {
        problems.push(`filters.ts excludes all of "${block}", a block of the native kernel ${kernel}`);
      } else if (!run.specs.some((s) => blockOf(s.name, x.envName) === block && s.status === 'passed' && s.kernels.includes(kernel))) {
        problems.push(`no passing spec of "${block}" dispatches ${kernel}: the block does not test that kernel`);
      }
    }
  }
  for (const kernel of Object.keys(x.kernelBlocks)) {
    if (!native.has(kernel)) problems.push(`filters.ts lists blocks for ${kernel}, which the backend does not register natively`);
  }
  if (counts.run === 0) problems.push('no spec ran');
  return { counts, excludedByReason, failures, failuresByKernel, problems };
}
