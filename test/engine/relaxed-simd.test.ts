// Relaxed SIMD for Node users without flags. vitest starts its workers with --experimental-wasm-relaxed-simd, so
// these tests run the built package (dist/) in child processes started with plain `node` (no flags, no
// NODE_OPTIONS), as a user would: 'auto' must find the relaxed builds there, threads included; pinning a build or
// WASMGRAD_RELAXED_SIMD=0 keeps the simd builds (and wasmgrad sets no flag); and where setting V8's flag is
// impossible, 'auto' falls back to simd and backendInfo().buildNote says why.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = (file: string) => pathToFileURL(join(import.meta.dirname, '../../dist', file)).href;

/** Runs an ES module program with plain `node`; its stdout parsed as JSON. */
function runNode(program: string, env: Record<string, string> = {}, args: string[] = ['--input-type=module', '-e', program]):
  Promise<string> {
  const { NODE_OPTIONS: _, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 60_000, env: { ...inherited, ...env } }, (error, out, stderr) =>
      (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(out)));
  });
}

/** A product big enough to be shared between threads, as bits: the same on one thread and on two. */
const PRODUCT = `
  const product = (lib) => lib.tidy(() => {
    const g = new lib.Generator(7);
    const a = lib.randn([96, 200], { generator: g });
    const b = lib.randn([200, 160], { generator: g });
    return Array.from(new Uint32Array(a.matmul(b).data().buffer)).reduce((h, v) => (h * 31 + v) >>> 0, 0);
  });`;

describe('in Node without flags', () => {
  it("'auto' runs the relaxed build, and relaxed-simd-threads with threads; the flag is set once, by wasmgrad", async () => {
    const out = await runNode(`
      import * as lib from '${dist('index.js')}';
      ${PRODUCT}
      const before = lib.supportedBuilds();
      const one = await lib.init();
      const oneBits = product(lib);
      const two = await lib.init({ threads: 2 });
      const twoBits = product(lib);
      const simd = await lib.init({ build: 'simd' });
      const simdBits = product(lib);
      console.log(JSON.stringify({ before, one, two: { build: two.build, threads: two.threads, note: two.buildNote },
        simd: { build: simd.build, note: simd.buildNote }, sameBits: oneBits === twoBits, fused: oneBits !== simdBits }));
      process.exit(0);
    `);
    const r = JSON.parse(out);
    expect(r.before).toEqual(['simd', 'scalar']); // this Node does not validate relaxed SIMD on its own
    expect(r.one).toMatchObject({ build: 'relaxed', supportedBuilds: ['relaxed', 'simd', 'scalar'] });
    expect(r.one.buildNote).toBe("relaxed SIMD (fused multiply-add), enabled for this Node process by wasmgrad with " +
      "V8's --experimental-wasm-relaxed-simd; init({ build: 'simd' }) or WASMGRAD_RELAXED_SIMD=0 opts out");
    expect(r.two).toEqual({ build: 'relaxed-simd-threads', threads: 2, note: r.one.buildNote });
    expect(r.sameBits).toBe(true); // the workers run relaxed SIMD too, with the bits of one thread
    expect(r.fused).toBe(true); // and it is the FMA build: its product differs from simd's in the last bits
    expect(r.simd).toEqual({ build: 'simd', note: "the 'simd' build, as asked" });
  });

  it('a pinned simd build sets no flag', async () => {
    const out = await runNode(`
      import { init, supportedBuilds } from '${dist('index.js')}';
      const info = await init({ build: 'simd' });
      console.log(JSON.stringify({ build: info.build, after: supportedBuilds() }));
      process.exit(0);
    `);
    expect(JSON.parse(out)).toEqual({ build: 'simd', after: ['simd', 'scalar'] });
  });

  it("WASMGRAD_RELAXED_SIMD=0 keeps 'auto' on simd and simd-threads, and sets no flag", async () => {
    const out = await runNode(`
      import { init, supportedBuilds } from '${dist('index.js')}';
      const one = await init();
      const two = await init({ threads: 2 });
      console.log(JSON.stringify({ one: [one.build, one.buildNote], two: [two.build, two.buildNote], after: supportedBuilds() }));
      process.exit(0);
    `, { WASMGRAD_RELAXED_SIMD: '0' });
    const note = 'SIMD without relaxed SIMD, as WASMGRAD_RELAXED_SIMD=0 asks';
    expect(JSON.parse(out)).toEqual({ one: ['simd', note], two: ['simd-threads', note], after: ['simd', 'scalar'] });
  });

  it.each([
    ['throws', "() => { throw new Error('flags are frozen'); }", 'flags are frozen'],
    ['does nothing', '() => {}', 'the engine still does not validate it'],
  ])("where setting V8's flag %s, 'auto' falls back to simd and says why", async (_, stub, reason) => {
    const out = await runNode(`
      import v8 from 'node:v8';
      import { syncBuiltinESMExports } from 'node:module';
      v8.setFlagsFromString = ${stub};
      syncBuiltinESMExports();
      const { init } = await import('${dist('index.js')}');
      const one = await init();
      const two = await init({ threads: 2 });
      const error = await init({ build: 'relaxed' }).then(() => 'loaded', (e) => e.message);
      console.log(JSON.stringify({ one: [one.build, one.buildNote], two: two.build, error }));
      process.exit(0);
    `);
    expect(JSON.parse(out)).toEqual({
      one: ['simd', `SIMD: setting V8's --experimental-wasm-relaxed-simd did not enable relaxed SIMD (${reason})`],
      two: 'simd-threads',
      error: "init: this engine cannot run the 'relaxed' build (it runs: simd, scalar); " +
        'it needs relaxed SIMD (Chromium has it; Node 20 needs --experimental-wasm-relaxed-simd)',
    });
  });

  it('the CLI trains on a relaxed build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wg-relaxed-'));
    const out = await runNode('', {}, [join(import.meta.dirname, '../../dist/cli.js'), 'train', '--epochs', '1',
      '--hidden', '8', '--out', dir, '--json']);
    const summary = JSON.parse(out);
    expect(summary.backend).toBe('wasm');
    expect(summary.build).toMatch(/^relaxed(-simd-threads)?$/); // --threads auto: one per core
  });
});
