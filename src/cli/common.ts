// Shared by the CLI commands: choosing the backend, and flag parsers whose messages say what is allowed.
import { InvalidArgumentError } from 'commander';
import { init } from '../backend/registry.js';
import type { BuildName } from '../backend/types.js';

export async function initBackend(name: string, build = 'auto'): Promise<void> {
  if (name !== 'wasm' && name !== 'ref') throw new Error(`--backend must be 'wasm' or 'ref', got '${name}'`);
  await init(name === 'ref' ? { backend: 'ref' } : { backend: 'wasm', build: build as BuildName | 'auto' });
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
