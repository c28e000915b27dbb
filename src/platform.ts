// The few places that need Node's modules load them on first use, by a computed name, so bundlers building for
// browsers never see (or try to bundle) a `node:` import.

export const isNode = (): boolean => typeof process === 'object' && typeof process.versions?.node === 'string';

export async function nodeModule<T>(name: 'node:fs/promises' | 'node:zlib' | 'node:worker_threads' | 'node:os'): Promise<T> {
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
