// Which backend new tensors go to. The ref backend is always there; `await init()` loads the best wasm build
// the engine supports and makes it current. There is no top-level await anywhere in the package.
import { checkOptions, describe, oneOf } from '../options.js';
import { RefBackend } from './ref/index.js';
import type { Backend, BuildName } from './types.js';
import { chooseBuild, enableRelaxedSimd, supportedBuilds } from './wasm/loader.js';
import { loadWasmBackend, requestedThreads, WASM_OPTIONS, WasmBackend, type WasmOptions } from './wasm/index.js';

/** Options of init(): the wasm backend's options plus which backend to make current. */
export interface InitOptions extends WasmOptions {
  /** Backend to make current (default 'wasm'). */
  backend?: 'wasm' | 'ref';
}

/** What backendInfo() reports: the backend, build, threads and memory limit that run, and why. */
export interface BackendInfo {
  /** Which backend is current. */
  backend: 'wasm' | 'ref';
  /** The build that runs: 'ref' for the reference backend. */
  build: BuildName | 'ref';
  /** Builds this engine can run, best first. */
  supportedBuilds: BuildName[];
  /**
   * Why this build runs: as asked, or what 'auto' found (relaxed SIMD the engine validates, or that wasmgrad
   * enabled for the Node process; why not, where it runs simd).
   */
  buildNote?: string;
  /** Linear memory limit in MB (wasm), or Infinity. */
  maxMemoryMB: number;
  /** Threads that share large kernel calls (init({ threads })); 1 for the ref backend. */
  threads: number;
  /**
   * Why the backend runs the threads it runs, when there is something to say: what threads: 'auto' chose and why
   * (one thread where memory cannot be shared, say), or that more threads were asked for than there are cores.
   */
  threadsNote?: string;
}

const ref = new RefBackend();
let wasm: WasmBackend | null = null;
let current: Backend = ref;

/** Loads the wasm backend (once per set of options) and makes the requested backend current. */
export async function init(options: InitOptions = {}): Promise<BackendInfo> {
  checkOptions('init', options, { backend: oneOf('wasm', 'ref'), ...WASM_OPTIONS });
  const { backend = 'wasm', ...wasmOptions } = options;
  if (backend === 'ref') {
    const wasmOnly = Object.keys(wasmOptions).filter((k) => wasmOptions[k as keyof WasmOptions] !== undefined);
    if (wasmOnly.length) throw new Error(`init: ${wasmOnly.join(', ')}: options of the wasm backend, not of backend 'ref'`);
    current = ref;
  } else {
    const threads = requestedThreads(wasmOptions);
    const build = wasmOptions.build ?? 'auto';
    await enableRelaxedSimd(build); // before comparing builds: in Node, 'auto' may now find relaxed SIMD
    // The backend loaded is reused when it is what these options would load: the same threads option (its
    // workers still running) and the same build (for threads 'auto', the same build option: the threads it
    // runs depend on the machine, not on the options).
    const sameThreads = wasm?.settings.threads === threads && !wasm.closed;
    const sameBuild = threads === 'auto' ? wasm?.settings.build === build : wasm?.build === chooseBuild(build, threads);
    const reuse = wasm && !wasm.broken && sameThreads && sameBuild
      && wasmOptions.maxMemoryMB === undefined && wasmOptions.wasm === undefined;
    if (!reuse) {
      const previous = wasm;
      wasm = await loadWasmBackend('init', wasmOptions);
      previous?.close(); // its worker threads, if any: tensors still on it keep working on this thread
    }
    current = wasm!;
  }
  return backendInfo();
}

/**
 * Switches between the loaded backends ('wasm' needs a prior `await init()`), or to a backend object of your
 * own (e.g. one from createWasmBackend, to run several builds side by side).
 */
export function setBackend(backend: 'wasm' | 'ref' | Backend): void {
  if (backend === 'ref') current = ref;
  else if (backend === 'wasm') {
    if (!wasm) throw new Error("setBackend('wasm'): the wasm backend is not loaded yet; call `await init()` first");
    current = wasm;
  } else if (typeof backend === 'object' && backend !== null && typeof backend.alloc === 'function') current = backend;
  else throw new Error(`setBackend: expected 'wasm', 'ref' or a backend object (e.g. from createWasmBackend), got ${describe(backend)}`);
}

/** The current backend: where new tensors go (the ref backend until init() resolves). */
export function getBackend(): Backend {
  return current;
}

/**
 * The pure-TypeScript reference backend (float32 and float64): always available, the tests' oracle. Pass it as `{
 * backend: refBackend() }` or setBackend('ref').
 */
export function refBackend(): RefBackend {
  return ref;
}

/** What runs now: backend, build, threads, memory limit, and notes on why ('auto' choices). */
export function backendInfo(): BackendInfo {
  return {
    backend: current.name,
    build: current.build,
    supportedBuilds: supportedBuilds(),
    ...(current instanceof WasmBackend && current.buildNote ? { buildNote: current.buildNote } : {}),
    maxMemoryMB: current.memory().limitBytes / 1048576,
    threads: current instanceof WasmBackend ? current.threads : 1,
    ...(current instanceof WasmBackend && current.threadsNote ? { threadsNote: current.threadsNote } : {}),
  };
}
