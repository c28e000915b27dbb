// The few places that need Node's modules load them on first use, by a computed name, so bundlers building for
// browsers never see (or try to bundle) a `node:` import.

export const isNode = (): boolean => typeof process === 'object' && typeof process.versions?.node === 'string';

export async function nodeModule<T>(name: 'node:fs/promises' | 'node:zlib' | 'node:worker_threads' | 'node:os' | 'node:v8'): Promise<T> {
  const specifier: string = name;
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as T;
}

export const nodeFs = () => nodeModule<typeof import('node:fs/promises')>('node:fs/promises');

/** The bytes at a URL: read from disk for file: URLs in Node, fetched otherwise. */
export async function readBytes(url: URL, what: string): Promise<Uint8Array> {
  if (url.protocol === 'file:' && isNode()) return new Uint8Array(await (await nodeFs()).readFile(url));
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${what}: could not fetch ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The bytes of a packaged data file: given as bytes, or read from its URL (a string is relative to the page). */
export async function readSource(source: Uint8Array | URL | string, what: string): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  return readBytes(typeof source === 'string' ? new URL(source, typeof location === 'object' ? location.href : undefined) : source, what);
}

/** gzip-compressed bytes decompressed (DecompressionStream in browsers, zlib in Node); other bytes as they are. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  // A server that sent the file with Content-Encoding: gzip has already decompressed it.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  if (typeof DecompressionStream === 'function') {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return (await nodeModule<typeof import('node:zlib')>('node:zlib')).gunzipSync(bytes);
}
