// What a run of TensorFlow.js's test suite means for the backend under test: which specs it leaves out and why,
// the counts, the failures per describe block and kernel, and every way the include/exclude list (filters.ts)
// can be wrong. Pure: it sees the specs' results and the kernels each one dispatched, so it is tested on made-up
// runs too (test/tfjs/tfjs-core-suite.test.ts).
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

/** Each spec's kernels on the reference run (tfjs-backend-cpu), by specKey. */
export type KernelsBySpec = Record<string, readonly string[]>;

export interface Expectations {
  envName: string;
  /** The kernels the backend registers natively. */
  nativeKernels: readonly string[];
  /** The kernels it lets run on tfjs-backend-cpu (src/tfjs/fallback.ts). */
  fallbackKernels: readonly string[];
  /** tfjs-backend-cpu's kernels: those a spec can miss (some specs register kernels of their own). */
  cpuKernels: readonly string[];
  /** For each native kernel, tfjs-core's describe blocks that test it (filters.ts). */
  kernelBlocks: Readonly<Record<string, readonly string[]>>;
  excludes: readonly Exclusion[];
  /** The reference run's kernels; absent on the reference run itself. */
  reference?: KernelsBySpec;
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
  /** For each kernel neither native nor a fallback, how many specs need it (most first): what to implement next. */
  notImplemented: Record<string, number>;
  failures: Failure[];
  /** For each native kernel, the failing specs of its own describe blocks. */
  failuresByKernel: Record<string, number>;
  /** The native kernels' own blocks: specs run, passed, and left out for the kernels they need. */
  ownBlocks: Record<string, { run: number; passed: number; excluded: number; missing: Record<string, number> }>;
  /** Everything that must make the run fail: failed specs, and a list that no longer matches the suite. */
  problems: string[];
}

/** Reason of the specs outside every describeWithFlags block. */
export const PLAIN_DESCRIBE = 'plain describe(): tests of tfjs-core itself (utilities, io, serialisation) that set no backend';
/** Reason of the specs that need a kernel the backend does not have. */
export const NOT_IMPLEMENTED = 'needs a kernel the backend neither runs natively nor lets fall back to cpu (see notImplemented)';

/** The describe block a spec belongs to: its name up to the test environment (null for plain describe()). */
export function blockOf(name: string, envName: string): string | null {
  const at = name.indexOf(` ${envName} `);
  return at < 0 ? null : name.slice(0, at);
}

/** A spec's name without the test environment (nested blocks repeat it), the same on every backend. */
export function specKey(name: string, envName: string): string {
  return name.replaceAll(` ${envName} `, ' ');
}

/** Whether an exclusion applies to a spec, as tfjs's TestFilter matches: its full name contains `spec`. */
export function excludes(e: Exclusion, name: string, envName: string): boolean {
  return blockOf(name, envName) === e.block && (e.spec === undefined || name.includes(e.spec));
}

/** The kernels a spec dispatched on the reference run that the backend has neither natively nor as a fallback. */
export function missingKernels(name: string, x: Expectations): string[] {
  const has = new Set([...x.nativeKernels, ...x.fallbackKernels]);
  return (x.reference?.[specKey(name, x.envName)] ?? []).filter((k) => !has.has(k) && x.cpuKernels.includes(k));
}

export function summarize(run: SuiteRun, x: Expectations): Report {
  const native = new Set(x.nativeKernels);
  const count = (status: SpecResult['status']) => run.specs.filter((s) => s.status === status).length;
  const counts = { specs: run.specs.length, run: count('passed') + count('failed'), passed: count('passed'),
    failed: count('failed'), excluded: count('excluded'), pending: count('pending') };
  const problems: string[] = [];

  const excludedByReason: Record<string, number> = {};
  const notImplemented: Record<string, number> = {};
  for (const s of run.specs) {
    if (s.status !== 'excluded') continue;
    const missing = missingKernels(s.name, x);
    for (const k of missing) notImplemented[k] = (notImplemented[k] ?? 0) + 1;
    const reason = blockOf(s.name, x.envName) === null ? PLAIN_DESCRIBE : missing.length > 0 ? NOT_IMPLEMENTED
      : x.excludes.find((e) => excludes(e, s.name, x.envName))?.reason ?? 'in no list (a bug of the runner)';
    excludedByReason[reason] = (excludedByReason[reason] ?? 0) + 1;
  }

  const failures = run.specs.filter((s) => s.status === 'failed').map((s) => ({
    block: blockOf(s.name, x.envName) ?? '(plain describe)', spec: s.name,
    kernels: s.kernels.filter((k) => native.has(k)), message: s.messages[0] ?? '' }));
  for (const f of failures) problems.push(`failed: ${f.spec}: ${f.message}`);
  for (const e of run.suiteErrors) problems.push(`error in "${e.name}": ${e.messages.join('; ')}`);
  if (x.reference !== undefined) {
    for (const s of run.specs) {
      if (blockOf(s.name, x.envName) !== null && !(specKey(s.name, x.envName) in x.reference)) {
        problems.push(`the reference run did not see "${s.name}"`);
      }
    }
  }

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
  const ownBlocks: Report['ownBlocks'] = {};
  for (const block of [...new Set(Object.values(x.kernelBlocks).flat())].sort()) {
    const specs = run.specs.filter((s) => blockOf(s.name, x.envName) === block);
    const missing: Record<string, number> = {};
    for (const s of specs) for (const k of s.status === 'excluded' ? missingKernels(s.name, x) : []) missing[k] = (missing[k] ?? 0) + 1;
    ownBlocks[block] = { run: specs.filter((s) => s.status === 'passed' || s.status === 'failed').length,
      passed: specs.filter((s) => s.status === 'passed').length, excluded: specs.filter((s) => s.status === 'excluded').length, missing };
  }
  if (counts.run === 0) problems.push('no spec ran');
  const byCount = Object.fromEntries(Object.entries(notImplemented).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  return { counts, excludedByReason, notImplemented: byCount, failures, failuresByKernel, ownBlocks, problems };
}
