// Guard words in the debug build: every heap block (tensor storage and matmul scratch) sits between poisoned
// guards, fresh and freed blocks are poisoned, and the guards of every live block are checked after every kernel
// call. These tests make kernels overrun on purpose, by calling the backend with a wrong size (bypassing the
// validated kernel layer, which would refuse), and check that the debug build notices while release builds pay
// nothing. The kernel tests (test/kernels/) and `npm run fuzz` run the debug build, so they check the guards
// after every kernel they run.
import { describe, expect, it } from 'vitest';
import { GUARD, Heap, poisonAt } from '../../src/backend/wasm/heap.js';
import { createWasmBackend, type WasmBackend, type WasmBuf } from '../../src/backend/wasm/index.js';

const words = (be: WasmBackend, buf: WasmBuf, from: number, count: number) =>
  Array.from(new Uint32Array(be.exports.memory.buffer, buf.ptr + 4 * from, count));

describe('heap layout', () => {
  const heapOf = (guards: boolean) => new Heap(new WebAssembly.Memory({ initial: 1 }), 1024, 64 * 65536, guards);

  it('release builds: blocks are packed (no padding) and there is nothing to check', () => {
    const heap = heapOf(false);
    const a = heap.alloc(64);
    expect(heap.alloc(64)).toBe(a + 64);
    expect(heap.guards).toBe(false);
    expect(heap.checkGuards()).toBeNull();
  });

  it('debug build: a guard on each side of every block, poison in between, aligned payloads', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const heap = new Heap(memory, 1024, 64 * 65536, true);
    const a = heap.alloc(20);
    const b = heap.alloc(64);
    expect(a % 64).toBe(0);
    expect(b % 64).toBe(0);
    // a: guard, 64 bytes (20 asked for, the rest guard too), guard; then b's guard.
    expect(b).toBe(a + 64 + GUARD + GUARD);
    const mem = new Uint32Array(memory.buffer);
    const poisoned = (from: number, to: number) => mem.slice(from / 4, to / 4).every((w, i) => w === poisonAt(from / 4 + i));
    expect(poisoned(a - GUARD, b + 64 + GUARD)).toBe(true);
    expect(heap.checkGuards()).toBeNull();
    mem[(a + 20) / 4] = 0; // one word past the 20 bytes asked for
    expect(heap.checkGuards()).toEqual({ ptr: a, bytes: 20, side: 'after' });
    mem[(a + 20) / 4] = poisonAt((a + 20) / 4);
    mem[(b - 4) / 4] = 0; // the last word before b
    expect(heap.checkGuards()).toEqual({ ptr: b, bytes: 64, side: 'before' });
    mem[(b - 4) / 4] = poisonAt((b - 4) / 4);
    // Freed blocks are poisoned again and forgotten; everything freed leaves an empty heap.
    new Float32Array(memory.buffer, b, 16).fill(1);
    heap.free(b, 64);
    expect(poisoned(b, b + 64)).toBe(true);
    heap.free(a, 20);
    expect(heap.heapBytes).toBe(0);
    expect(heap.checkGuards()).toBeNull();
  });
});

describe('debug build: kernels that step outside their blocks', () => {
  it('a write one element past the end names the kernel and the block, and marks the backend broken', async () => {
    const be = await createWasmBackend({ build: 'debug' });
    const x = be.alloc('float32', 5);
    be.fill(x, 1, 0, 5); // in bounds: fine
    expect(() => be.fill(x, 2, 0, 6)).toThrow(new RegExp(
      `^wasm kernel 'fill' wrote outside the blocks it was handed: the guard words after the block of 20 bytes ` +
      `at offset ${x.ptr} were overwritten \\(debug build`));
    expect(be.broken).toBe(true);
  });

  const sgd = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, firstStep: true };
  it.each<[string, (be: WasmBackend, x: WasmBuf, y: WasmBuf) => void, RegExp]>([
    ['a fill that starts one element early', (be, x) => be.fill(x, 1, -1, 2), /^wasm kernel 'fill' .*before the block of 32 bytes/],
    // The update reads x's guard word, computes a NaN from it and writes that back: the guard changes all the same.
    ['an update in place over 9 elements', (be, x, y) => be.sgd(x, y, null, 9, sgd), /^wasm kernel 'sgd' .*after the block of 32 bytes/],
    ['a strided copy with a row too wide', (be, x, y) =>
      be.copy(x, y, { dims: [2, 4], xStrides: [4, 1], xOffset: 0, outStrides: [5, 1], outOffset: 0 }),
    /^wasm kernel 'copy' .*after the block of 32 bytes/],
    ['a unary kernel over 9 elements', (be, x, y) => be.unary('neg', x, y, 9, 0), /^wasm kernel 'neg' .*after the block of 32 bytes/],
  ])('%s', async (_name, overrun, message) => {
    const be = await createWasmBackend({ build: 'debug' });
    const x = be.alloc('float32', 8), y = be.alloc('float32', 8);
    be.fill(x, 1, 0, 8);
    be.fill(y, 1, 0, 8);
    expect(() => overrun(be, x, y)).toThrow(message);
  });

  it('the matmul workspace is guarded like any block', async () => {
    const be = await createWasmBackend({ build: 'debug' });
    const a = be.alloc('float32', 64 * 64), c = be.alloc('float32', 64 * 64);
    be.fill(a, 1, 0, 64 * 64);
    const plan = { m: 64, n: 64, k: 64, transA: false, transB: false, batch: 1, strideA: 0, strideB: 0, bias: null };
    be.matmul(a, a, c, plan);
    expect(be.read(c)[0]).toBe(64);
    const ws = (be as unknown as { workspaces: { ptr: number; bytes: number }[] }).workspaces[0]!;
    // What a packing loop that overran the scratch space would leave behind:
    new Float32Array(be.exports.memory.buffer, ws.ptr + ws.bytes, 1)[0] = 0;
    expect(() => be.fill(c, 0, 0, 1)).toThrow(
      `the guard words after the block of ${ws.bytes} bytes at offset ${ws.ptr} were overwritten`);
  });

  it('a read past the end sees the poison: NaN as float32, a negative int32', async () => {
    const be = await createWasmBackend({ build: 'debug' });
    const x = be.alloc('float32', 7);
    be.fill(x, 1, 0, 7);
    const sum = be.alloc('float32', 1);
    be.reduce('sum', x, sum, 1, 7, 1, null);
    expect(be.read(sum)[0]).toBe(7);
    be.reduce('sum', x, sum, 1, 8, 1, null); // one element too many
    expect(be.read(sum)[0]).toBeNaN();
    // The word read is the poison itself.
    const out = be.alloc('float32', 8);
    be.copy(x, out, { dims: [8], xStrides: [1], xOffset: 0, outStrides: [1], outOffset: 0 });
    const word = poisonAt((x.ptr + 28) / 4);
    expect(words(be, out, 7, 1)).toEqual([word]);
    expect(word | 0).toBeLessThan(0);
    expect(be.broken).toBe(false); // reads break no guard
  });

  it('fresh blocks hold the poison, so reading memory nobody wrote shows up', async () => {
    const be = await createWasmBackend({ build: 'debug' });
    const x = be.alloc('float32', 3);
    expect(Array.from(be.read(x))).toEqual([NaN, NaN, NaN]);
    be.fill(x, 2, 0, 3);
    be.free(x);
    const y = be.alloc('int32', 3); // reuses x's block
    expect(y.ptr).toBe(x.ptr);
    expect(Array.from(be.read(y))).toEqual([0, 1, 2].map((i) => poisonAt(y.ptr / 4 + i) | 0));
  });
});

describe('release builds pay nothing', () => {
  it.each(['simd', 'scalar'] as const)('%s: no padding, no poison, no check', async (build) => {
    const be = await createWasmBackend({ build });
    const x = be.alloc('float32', 16), y = be.alloc('float32', 16);
    expect(y.ptr).toBe(x.ptr + 64);
    expect(Array.from(be.read(x))).toEqual(Array(16).fill(0)); // fresh linear memory, never poisoned
    be.fill(x, 1, 0, 17); // the overrun lands in y, unnoticed: this is what the debug build is for
    expect(be.read(y)[0]).toBe(1);
    expect(be.broken).toBe(false);
  });
});
