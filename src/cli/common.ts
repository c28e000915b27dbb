// Shared by the CLI commands: choosing the backend, and flag parsers whose messages say what is allowed.
import { InvalidArgumentError } from 'commander';
import { availableParallelism } from 'node:os';
import { init } from '../backend/registry.js';
import type { BuildName } from '../backend/types.js';
import { engineSupports } from '../backend/wasm/loader.js';

/**
 * Makes the backend current. threads 'auto': every core (at most 16) where the engine shares memory, with the
 * simd-threads build (its results are those of the simd build on one thread), else one thread.
 */
export async function initBackend(name: string, build = 'auto', threads: number | 'auto' = 1): Promise<void> {
  if (name !== 'wasm' && name !== 'ref') throw new Error(`--backend must be 'wasm' or 'ref', got '${name}'`);
  if (threads !== 'auto' && threads > 1 && (name === 'ref' || build !== 'auto')) {
    throw new Error(`--threads ${threads} needs the wasm backend with --build auto`);
  }
  const n = threads !== 'auto' ? threads
    : name === 'wasm' && build === 'auto' && engineSupports('simd-threads') ? Math.min(availableParallelism(), 16) : 1;
  await init(name === 'ref' ? { backend: 'ref' } : { backend: 'wasm', build: build as BuildName | 'auto', threads: n });
}

/** --threads: a positive integer or 'auto'. */
export function threadCount(value: string): number | 'auto' {
  if (value === 'auto') return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1 || n > 16) {
    throw new InvalidArgumentError("--threads must be an integer from 1 to 16, or 'auto'.");
  }
  return n;
}

function parser(check: (x: number) => boolean, what: string) {
  return (flag: string) => (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !check(x)) throw new InvalidArgumentError(`${flag} must be ${what}.`);
    return x;
  };
}

export const positiveInt = parser((x) => Number.isInteger(x) && x > 0, 'a positive integer');
export const positiveNumber = parser((x) => Number.isFinite(x) && x > 0, 'a number > 0');
export const nonNegative = parser((x) => Number.isFinite(x) && x >= 0, 'a number ≥ 0');
export const probability = parser((x) => x >= 0 && x < 1, 'a number in [0, 1)');

export function intList(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (!parts.length || parts.some((p) => p === '') || nums.some((n) => !Number.isInteger(n) || n <= 0)) {
      throw new InvalidArgumentError(`${flag} must be positive integers separated by commas, e.g. 128,64.`);
    }
    return nums;
  };
}
