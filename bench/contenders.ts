// The contenders, all in this process: wasmgrad's wasm backend once per build the engine runs, the same with
// init({ threads }) over every core (the simd-threads build, where the engine shares memory), wasmgrad's pure-TS ref
// backend, and TensorFlow.js 4.22 on its wasm (XNNPACK, SIMD, single-threaded in Node) and cpu backends.
// activate() makes a contender current before its inputs are built and before it is timed.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createWasmBackend, memory, refBackend, setBackend, supportedBuilds } from '../dist/index.js';
import type { Backend, BuildName } from '../dist/index.js';
import { engineSupports } from '../dist/backend/wasm/loader.js';

// In tfjs 4.22 the PROD flag only silences console warnings (e.g. the hint to install tfjs-node); no check is skipped.
tf.enableProdMode();

export { tf };

export interface Contender {
  /** wasm-relaxed, wasm-simd, wasm-scalar, wasm-simd-threads, ref, tfjs-wasm, tfjs-cpu */
  readonly name: string;
  readonly lib: 'wasmgrad' | 'tfjs';
  /** The wasm build (wasmgrad wasm contenders only). */
  readonly build?: BuildName;
  /** The pure-TS reference: fewer rounds, skipped where one call would take seconds. */
  readonly slow: boolean;
  /** The contender whose outputs this one's must equal bit for bit (a threads build: the same build on one thread). */
  readonly sameBitsAs?: string;
  /** The wasmgrad backend tensors are created on (wasmgrad contenders only). */
  backend(): Backend;
  activate(): Promise<void>;
  /** A new wasm instance (an empty heap), so each case's memory figures are its own. No-op elsewhere. */
  fresh(): Promise<void>;
  /** Live tensors of this library: the timed functions must not leak. */
  liveTensors(): number;
}

/** Threads of the wasm-simd-threads contender: every core. */
const THREADS = availableParallelism();

function wasmContender(build: BuildName, first: Awaited<ReturnType<typeof createWasmBackend>>, threads = 1): Contender {
  let backend = first;
  return {
    name: `wasm-${build}`, lib: 'wasmgrad', build, slow: false,
    sameBitsAs: threads > 1 ? `wasm-${build.replace('-threads', '')}` : undefined,
    backend: () => backend,
    activate: async () => setBackend(backend),
    fresh: async () => {
      backend.close();
      backend = await createWasmBackend({ build, threads });
    },
    liveTensors: () => memory().tensors,
  };
}

function tfjsContender(name: 'wasm' | 'cpu'): Contender {
  return {
    name: `tfjs-${name}`, lib: 'tfjs', slow: false,
    backend: () => {
      throw new Error('a tfjs contender has no wasmgrad backend');
    },
    activate: async () => {
      if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`tfjs: backend '${name}' failed to initialise`);
    },
    fresh: async () => {},
    liveTensors: () => tf.memory().numTensors,
  };
}

/** The directory of @tensorflow/tfjs-backend-wasm's .wasm files, ending in '/', as setWasmPaths wants in Node. */
export function tfjsWasmDir(): string {
  const require = createRequire(import.meta.url);
  return `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`;
}

export async function makeContenders(options: { tfjs?: boolean } = {}): Promise<Contender[]> {
  const out: Contender[] = [];
  for (const build of supportedBuilds()) out.push(wasmContender(build, await createWasmBackend({ build })));
  if (THREADS > 1 && engineSupports('simd-threads')) {
    out.push(wasmContender('simd-threads', await createWasmBackend({ build: 'simd-threads', threads: THREADS }), THREADS));
  }
  out.push({
    name: 'ref', lib: 'wasmgrad', slow: true,
    backend: () => refBackend(),
    activate: async () => setBackend('ref'),
    fresh: async () => {},
    liveTensors: () => memory().tensors,
  });
  if (options.tfjs !== false) {
    setWasmPaths(tfjsWasmDir());
    out.push(tfjsContender('wasm'), tfjsContender('cpu'));
    for (const c of out.slice(-2)) await c.activate();
  }
  return out;
}
