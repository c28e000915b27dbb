// Finds, validates and compiles one of the .wasm builds, in Node (read from disk) and in browsers (fetch +
// compileStreaming), or from bytes registered by the inline entry (wasmgrad/inline) for bundlers that do not
// copy assets. Nothing here imports a `node:` module statically.
import { isNode, nodeFs, nodeModule } from '../../platform.js';
import type { BuildName } from '../types.js';
import { threadsAvailable } from './threads.js';

const moduleUrl = import.meta.url;

/** Where each build lives, relative to this file in src/ and in dist/ alike (both sit beside build/). */
const BUILD_URLS: Record<BuildName, () => URL> = {
  relaxed: () => new URL('../../../build/relaxed.wasm', import.meta.url),
  simd: () => new URL('../../../build/simd.wasm', import.meta.url),
  scalar: () => new URL('../../../build/scalar.wasm', import.meta.url),
  'simd-threads': () => new URL('../../../build/simd-threads.wasm', import.meta.url),
  'relaxed-simd-threads': () => new URL('../../../build/relaxed-simd-threads.wasm', import.meta.url),
  // Through a variable, so bundlers do not copy this 400 KB development build into every app (in a bundle,
  // load it with init({ build: 'debug', wasm: url })).
  debug: () => new URL('../../../build/debug.wasm', moduleUrl),
};

/** Best first; `debug` is only loaded when asked for by name, the threads builds with init({ threads }). */
export const AUTO_ORDER: readonly BuildName[] = ['relaxed', 'simd', 'scalar'];

/** The builds over shared memory, best first: the ones worker threads can share. */
const THREADS_ORDER: readonly BuildName[] = ['relaxed-simd-threads', 'simd-threads'];

/** Whether a build runs over shared memory, so worker threads can share its kernels. */
export function isThreadsBuild(build: string | undefined): boolean {
  return (THREADS_ORDER as readonly (string | undefined)[]).includes(build);
}

// Feature probes: the smallest modules that use one v128.const (SIMD) or one f32x4.relaxed_madd (relaxed SIMD).
// Validating them tells which build the engine accepts without fetching every build.
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const V128_CONST_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const probe = (body: number[]) =>
  new Uint8Array([
    ...HEADER,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x0a, body.length + 3, 0x01, body.length + 1, 0x00, ...body, // code section: no locals, body
  ]);
const SIMD_PROBE = probe([...V128_CONST_ZERO, 0x0b]);
const RELAXED_PROBE = probe([...V128_CONST_ZERO, ...V128_CONST_ZERO, ...V128_CONST_ZERO, 0xfd, 0x85, 0x02, 0x0b]);

/**
 * What this engine lacks to run a build, each said with where to get it; empty when it runs the build. The
 * features are validated with the probe modules, not by loading the build.
 */
export function missingFeatures(build: BuildName): string[] {
  if (typeof WebAssembly !== 'object') return ['WebAssembly'];
  const missing: string[] = [];
  if (build !== 'scalar' && !WebAssembly.validate(SIMD_PROBE)) missing.push('WebAssembly SIMD');
  else if ((build === 'relaxed' || build === 'relaxed-simd-threads') && !WebAssembly.validate(RELAXED_PROBE)) {
    missing.push('relaxed SIMD (Chromium has it; Node 20 needs --experimental-wasm-relaxed-simd)');
  }
  if (isThreadsBuild(build) && !threadsAvailable()) missing.push('SharedArrayBuffer (in browsers, a cross-origin-isolated page)');
  return missing;
}

/** Whether this engine can run a build. */
export function engineSupports(build: BuildName): boolean {
  return missingFeatures(build).length === 0;
}

/** The builds this engine can run, best first. */
export function supportedBuilds(): BuildName[] {
  return AUTO_ORDER.filter(engineSupports);
}

/**
 * The build a request loads: a named build as named; 'auto' the best the engine runs, among the threads builds
 * when more than one thread is asked for (simd-threads where none runs, so the error names what is missing),
 * leaving out the relaxed builds where WASMGRAD_RELAXED_SIMD=0.
 */
export function chooseBuild(requested: BuildName | 'auto', threads: number): BuildName {
  if (requested !== 'auto') return requested;
  const allowed = (b: BuildName) => !(optedOutOfRelaxed() && isRelaxedBuild(b)) && engineSupports(b);
  if (threads > 1) return THREADS_ORDER.find(allowed) ?? 'simd-threads';
  return AUTO_ORDER.find(allowed)!; // scalar needs nothing but WebAssembly
}

// ---- relaxed SIMD in Node --------------------------------------------------------------------------------------
// Node 20's V8 implements relaxed SIMD behind a flag (Chromium, and Nodes from 22 on, enable it by default). V8
// reads its wasm feature flags whenever it validates or compiles a module, so setting the flag for the process at
// run time lets every module compiled afterwards use relaxed SIMD, in worker threads too. The relaxed probe, run
// again after setting it, is what decides: a V8 that ignores or lacks the flag leaves the simd build running.

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
/** WASMGRAD_RELAXED_SIMD=0 opts out: wasmgrad sets no V8 flag, and 'auto' never picks a relaxed build. */
const OPT_OUT = 'WASMGRAD_RELAXED_SIMD';

const isRelaxedBuild = (build: BuildName) => build === 'relaxed' || build === 'relaxed-simd-threads';
const optedOutOfRelaxed = () => isNode() && process.env[OPT_OUT] === '0';

/** What enableRelaxedSimd did: set the flag and relaxed SIMD validates since, or why it did not. */
let relaxedEnabled = false;
let relaxedFailure: string | undefined;
let enabling: Promise<void> | null = null;

/**
 * Where a request may load a relaxed build ('auto', 'relaxed', 'relaxed-simd-threads'), in Node, on an engine with
 * SIMD that does not validate relaxed SIMD yet: sets V8's flag for the process (once) and probes again. Never in
 * browsers, never where WASMGRAD_RELAXED_SIMD=0.
 */
export function enableRelaxedSimd(requested: BuildName | 'auto'): Promise<void> {
  if (requested !== 'auto' && !isRelaxedBuild(requested)) return Promise.resolve();
  return (enabling ??= (async () => {
    if (!isNode() || optedOutOfRelaxed() || !engineSupports('simd') || WebAssembly.validate(RELAXED_PROBE)) return;
    try {
      (await nodeModule<typeof import('node:v8')>('node:v8')).setFlagsFromString(RELAXED_FLAG);
    } catch (e) {
      relaxedFailure = e instanceof Error ? e.message : String(e);
    }
    relaxedEnabled = WebAssembly.validate(RELAXED_PROBE);
    if (!relaxedEnabled) relaxedFailure ??= 'the engine still does not validate it';
  })());
}

/** Why a request runs the build it runs, for backendInfo().buildNote. */
export function buildNote(requested: BuildName | 'auto', build: BuildName): string {
  if (requested !== 'auto') return `the '${build}' build, as asked`;
  if (isRelaxedBuild(build)) {
    return relaxedEnabled
      ? `relaxed SIMD (fused multiply-add), enabled for this Node process by wasmgrad with V8's ${RELAXED_FLAG}; ` +
        `init({ build: 'simd' }) or ${OPT_OUT}=0 opts out`
      : 'relaxed SIMD (fused multiply-add), which this engine validates';
  }
  if (build === 'scalar') return 'no WebAssembly SIMD in this engine';
  if (optedOutOfRelaxed()) return `SIMD without relaxed SIMD, as ${OPT_OUT}=0 asks`;
  if (relaxedFailure) return `SIMD: setting V8's ${RELAXED_FLAG} did not enable relaxed SIMD (${relaxedFailure})`;
  return 'SIMD: this engine does not validate relaxed SIMD';
}

/**
 * Where a .wasm build comes from, for hosts where the default location fails: its bytes, a compiled module, a URL (or
 * its string), or a fetch Response.
 */
export type WasmSource = BufferSource | WebAssembly.Module | URL | string | Response;

async function readUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:' && isNode()) return WebAssembly.compile(await (await nodeFs()).readFile(url));
  return compileResponse(fetch(url));
}

const registered = new Map<BuildName, Uint8Array<ArrayBuffer>>();

/** Makes `bytes` the default source of a build (the inline entry registers every build this way). */
export function registerBuild(build: BuildName, bytes: Uint8Array<ArrayBuffer>): void {
  registered.set(build, bytes);
}

async function compileResponse(res: Response | Promise<Response>): Promise<WebAssembly.Module> {
  const r = await res;
  if (!r.ok) throw new Error(`wasm backend: could not fetch ${r.url}: HTTP ${r.status}`);
  // compileStreaming needs the application/wasm content type; fall back to bytes when a server omits it.
  if (typeof WebAssembly.compileStreaming === 'function' && r.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(r);
  }
  return WebAssembly.compile(await r.arrayBuffer());
}

/** Compiles a build from its default location, or from a source the caller supplies (bytes, URL, Response). */
export async function compileBuild(build: BuildName, source?: WasmSource): Promise<WebAssembly.Module> {
  if (source === undefined) {
    const bytes = registered.get(build);
    return bytes ? WebAssembly.compile(bytes) : readUrl(BUILD_URLS[build]());
  }
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string') return readUrl(new URL(source, typeof location === 'object' ? location.href : undefined));
  if (source instanceof URL) return readUrl(source);
  if (typeof Response === 'function' && source instanceof Response) return compileResponse(source);
  return WebAssembly.compile(source as BufferSource);
}
