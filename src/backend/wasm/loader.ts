// Finds, validates and compiles one of the .wasm builds, in Node (read from disk) and in browsers (fetch +
// compileStreaming), or from bytes registered by the inline entry (wasmgrad/inline) for bundlers that do not
// copy assets. Nothing here imports a `node:` module statically.
import { isNode, nodeFs } from '../../platform.js';
import type { BuildName } from '../types.js';
import { threadsAvailable } from './threads.js';

const moduleUrl = import.meta.url;

/** Where each build lives, relative to this file in src/ and in dist/ alike (both sit beside build/). */
const BUILD_URLS: Record<BuildName, () => URL> = {
  relaxed: () => new URL('../../../build/relaxed.wasm', import.meta.url),
  simd: () => new URL('../../../build/simd.wasm', import.meta.url),
  scalar: () => new URL('../../../build/scalar.wasm', import.meta.url),
  'simd-threads': () => new URL('../../../build/simd-threads.wasm', import.meta.url),
  // Through a variable, so bundlers do not copy this 400 KB development build into every app (in a bundle,
  // load it with init({ build: 'debug', wasm: url })).
  debug: () => new URL('../../../build/debug.wasm', moduleUrl),
};

/** Best first; `debug` is only loaded when asked for by name, `simd-threads` with init({ threads }). */
export const AUTO_ORDER: readonly BuildName[] = ['relaxed', 'simd', 'scalar'];

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

/** Whether this engine can run a build (validated with a probe module, not by loading the build). */
export function engineSupports(build: BuildName): boolean {
  if (typeof WebAssembly !== 'object') return false;
  if (build === 'scalar') return true;
  if (build === 'relaxed') return WebAssembly.validate(RELAXED_PROBE);
  if (build === 'simd-threads') return WebAssembly.validate(SIMD_PROBE) && threadsAvailable();
  return WebAssembly.validate(SIMD_PROBE);
}

/** The builds this engine can run, best first. */
export function supportedBuilds(): BuildName[] {
  return AUTO_ORDER.filter(engineSupports);
}

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
