// Every backend the tests run against: the reference backend and one wasm backend per build this engine can
// load (relaxed only where the engine validates it; vitest passes --experimental-wasm-relaxed-simd to Node), and
// each threads build with two threads where the engine runs it (shared memory: Node; cross-origin-isolated pages).
import { RefBackend } from '../../src/backend/ref/index.js';
import type { Backend } from '../../src/backend/types.js';
import { createWasmBackend } from '../../src/backend/wasm/index.js';
import { engineSupports, supportedBuilds } from '../../src/backend/wasm/loader.js';

export interface Labelled { label: string; backend: Backend }

export async function loadBackends(): Promise<Labelled[]> {
  const list: Labelled[] = [{ label: 'ref', backend: new RefBackend() }];
  for (const build of [...supportedBuilds(), 'debug' as const]) {
    list.push({ label: `wasm-${build}`, backend: await createWasmBackend({ build }) });
  }
  for (const build of ['relaxed-simd-threads', 'simd-threads'] as const) {
    if (engineSupports(build)) list.push({ label: `wasm-${build}`, backend: await createWasmBackend({ build, threads: 2 }) });
  }
  return list;
}

/** Only the wasm backends. */
export async function loadWasmBackends(): Promise<Labelled[]> {
  return (await loadBackends()).filter((b) => b.backend.name === 'wasm');
}
