// The include/exclude list for TensorFlow.js's own test suite (tfjs-core's dist/**/*_test.js) on the 'wasmgrad'
// backend. Every describeWithFlags block runs unless excluded here, and every exclusion says why. The runner
// (run.mjs) fails when an included spec fails, when a kernel wasmgrad registers natively has no block below,
// when a block below does not dispatch its kernel, and when an exclusion matches nothing.
import type { TestFilter } from '@tensorflow/tfjs-core/dist/jasmine_util.js';

export interface Exclusion {
  /** The describe block, as tfjs-core names it (the spec name up to the test environment). */
  block: string;
  /** A substring of the specs' full names (tfjs's TestFilter `excludes`); absent: the whole block. */
  spec?: string;
  reason: string;
}

/** For each kernel wasmgrad registers natively, tfjs-core's describe blocks that test it (all must pass). */
export const KERNEL_BLOCKS: Record<string, readonly string[]> = {};

export const EXCLUDES: readonly Exclusion[] = [];

/** The list as tfjs's setupTestFilters takes it: each block with exclusions first, then every other block. */
export function testFilters(envName: string): TestFilter[] {
  const byBlock = new Map<string, string[]>();
  for (const e of EXCLUDES) {
    const prefix = `${e.block} ${envName} `;
    byBlock.set(e.block, [...byBlock.get(e.block) ?? [], e.spec ?? prefix]);
  }
  return [...[...byBlock].map(([block, excludes]) => ({ startsWith: `${block} ${envName} `, excludes })),
    { include: ` ${envName} ` }];
}
