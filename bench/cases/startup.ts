// Startup of each .wasm build: the first createWasmBackend in this process (read the file, compile, instantiate:
// cold), compile + instantiate again from bytes, WebAssembly.compile alone, and WebAssembly.instantiate alone from
// an already compiled module (what createWasmBackend does after compileBuild); plus the .wasm sizes.
// V8 reuses the compiled code of byte-identical modules it still holds, so repeated compiles would measure a cache
// hit: each repeat appends a distinct custom section (ignored by the engine) to make the bytes new. The cache hit
// itself is recorded too (cachedCompileMs).
import { readFileSync, statSync } from 'node:fs';
import { createWasmBackend } from '../../dist/index.js';
import type { BuildName } from '../../dist/index.js';

export interface StartupRow {
  build: BuildName;
  bytes: number;
  /** First createWasmBackend({ build }) in the process, ms. */
  coldCreateMs: number;
  /** createWasmBackend({ build, wasm: bytes }) with new bytes each time (compile + instantiate), median ms. */
  createMs: number;
  /** WebAssembly.compile of new bytes, median ms. */
  compileMs: number;
  /** WebAssembly.compile of the same bytes again (V8's in-process cache), median ms. */
  cachedCompileMs: number;
  instantiateMs: number;
  /** Fastest instantiate, ms. */
  instantiateMinMs: number;
  repeats: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function timeEach(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  const hold: unknown[] = []; // keep results alive while timing, as a program would
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    hold.push(await f(i));
    out.push(performance.now() - t0);
  }
  return out;
}

export const wasmPath = (build: string) => new URL(`../../build/${build}.wasm`, import.meta.url);

let uniq = 0;
/** The module with a custom section "bench" holding a counter appended: same code, bytes V8 has not seen. */
function fresh(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const tag = new TextEncoder().encode(`bench${String(uniq++).padStart(10, '0')}`);
  const out = new Uint8Array(bytes.length + 3 + tag.length);
  out.set(bytes);
  out.set([0, 1 + tag.length, 5, ...tag], bytes.length); // id 0, size, name length 5 ("bench"), counter as payload
  return out;
}

/** Must run before anything else loads a build, so the first create is cold. */
export async function measureStartup(builds: BuildName[], repeats: number): Promise<StartupRow[]> {
  const cold = new Map<BuildName, number>();
  for (const build of builds) cold.set(build, (await timeEach(1, () => createWasmBackend({ build })))[0]!);
  const rows: StartupRow[] = [];
  for (const build of builds) {
    const bytes = Uint8Array.from(readFileSync(wasmPath(build)));
    const copies = Array.from({ length: 2 * repeats }, () => fresh(bytes)); // made before timing
    const create = await timeEach(repeats, (i) => createWasmBackend({ build, wasm: copies[i]! }));
    const compile = await timeEach(repeats, (i) => WebAssembly.compile(copies[repeats + i]!));
    const cached = await timeEach(repeats, () => WebAssembly.compile(bytes));
    const module = await WebAssembly.compile(bytes);
    await WebAssembly.instantiate(module, {});
    const inst = await timeEach(repeats, () => WebAssembly.instantiate(module, {}));
    rows.push({
      build, bytes: statSync(wasmPath(build)).size, coldCreateMs: cold.get(build)!, createMs: median(create),
      compileMs: median(compile), cachedCompileMs: median(cached), instantiateMs: median(inst),
      instantiateMinMs: Math.min(...inst), repeats,
    });
  }
  return rows;
}
