// Shared by the CLI commands: choosing the backend, and parsing flag values with messages that say what is wrong.
import { init } from '../backend/registry.js';

export type BackendFlag = 'wasm' | 'ref';

export async function initBackend(name: string): Promise<void> {
  if (name !== 'wasm' && name !== 'ref') throw new Error(`--backend must be 'wasm' or 'ref', got '${name}'`);
  await init({ backend: name });
}

export function choice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Error(`${flag} must be one of ${allowed.join(', ')}; got '${value}'`);
  return value as T;
}

export function number(flag: string, value: string, check: (x: number) => boolean = Number.isFinite, what = 'a number'): number {
  const x = Number(value);
  if (value.trim() === '' || !check(x)) throw new Error(`${flag} must be ${what}, got '${value}'`);
  return x;
}
