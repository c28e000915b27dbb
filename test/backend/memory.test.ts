import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import { createWasmBackend } from '../../src/backend/wasm/index.js';
import { Heap, OutOfMemoryError } from '../../src/backend/wasm/heap.js';

describe('wasm heap', () => {
  const fresh = (pages = 1, limit = 64 * 65536) => {
    const memory = new WebAssembly.Memory({ initial: pages });
    return { memory, heap: new Heap(memory, 1024, limit) };
  };

  it('reuses freed blocks: a repeated alloc/free pattern stops growing after the first round', () => {
    const { heap } = fresh();
    const sizes = [4000, 512, 100000, 64, 3, 4000, 77777];
    const round = () => {
      const ptrs = sizes.map((s) => heap.alloc(s));
      // free in a different order than allocation, as a training step does
      [3, 0, 6, 2, 5, 1, 4].forEach((i) => heap.free(ptrs[i]!, sizes[i]!));
    };
    round();
    const afterFirst = heap.heapBytes;
    for (let i = 0; i < 50; i++) round();
    expect(heap.heapBytes).toBe(afterFirst);
  });

  it('merges neighbours and returns the top, so everything freed leaves an empty heap', () => {
    const { heap } = fresh();
    const a = heap.alloc(100), b = heap.alloc(200), c = heap.alloc(300);
    heap.free(b, 200);
    heap.free(a, 100);
    expect(heap.heapBytes).toBeGreaterThan(0);
    heap.free(c, 300);
    expect(heap.heapBytes).toBe(0);
    // a block the size of a+b fits exactly where they were
    const big = heap.alloc(192);
    expect(big).toBe(a);
  });

  it('aligns every block to 64 bytes and never overlaps live blocks', () => {
    const { heap } = fresh();
    const live: [number, number][] = [];
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      if (live.length && seed % 3 === 0) {
        const [p, s] = live.splice(seed % live.length, 1)[0]!;
        heap.free(p, s);
      } else {
        const s = 1 + (seed % 5000);
        const p = heap.alloc(s);
        expect(p % 64).toBe(0);
        for (const [q, t] of live) expect(p + s <= q || q + t <= p).toBe(true);
        live.push([p, s]);
      }
    }
  });

  it('refuses to grow past its limit with a clear error and stays usable', () => {
    const { heap } = fresh(1, 4 * 65536);
    const a = heap.alloc(100);
    expect(() => heap.alloc(10 * 65536)).toThrow(OutOfMemoryError);
    expect(() => heap.alloc(10 * 65536)).toThrow(/out of memory allocating 655360 bytes.*limit of 0.3 MB/);
    const b = heap.alloc(1000);
    expect(b).toBeGreaterThan(a);
  });

  it('says how much is in use, and past what wasm32 addresses says that instead of suggesting a higher limit', () => {
    const { heap } = fresh(1, 2 ** 32);
    heap.alloc(3 * 65536);
    expect(() => heap.alloc(2 ** 32)).toThrow(OutOfMemoryError);
    expect(() => heap.alloc(2 ** 32)).toThrow(
      /^wasm backend: out of memory allocating 4294967296 bytes: more than the 4096\.0 MB a wasm32 memory can address \(0\.2 MB in use\)/);
  });
});

describe('wasm backend memory', () => {
  it('reports buffers, bytes in use and peak exactly', async () => {
    const be = await createWasmBackend({ build: 'scalar' });
    const start = be.memory();
    const a = be.alloc('float32', 10);
    const b = be.alloc('int32', 3);
    expect(be.memory()).toMatchObject({ buffers: start.buffers + 2, bytesInUse: start.bytesInUse + 52 });
    be.free(a);
    expect(be.memory()).toMatchObject({ buffers: start.buffers + 1, bytesInUse: start.bytesInUse + 12, peakBytes: start.bytesInUse + 52 });
    be.free(b);
    expect(be.memory().bytesInUse).toBe(start.bytesInUse);
  });

  it('keeps data and writes valid across memory.grow (no stale typed-array view)', async () => {
    const be = await createWasmBackend({ build: 'scalar' });
    const a = be.alloc('float32', 5);
    be.write(a, [1, 2, 3, 4, 5]);
    const before = be.exports.memory.buffer;
    const big = be.alloc('float32', 4 << 20); // 16 MB: forces memory.grow
    expect(be.exports.memory.buffer).not.toBe(before); // the old ArrayBuffer is detached
    expect(before.byteLength).toBe(0);
    expect(Array.from(be.read(a))).toEqual([1, 2, 3, 4, 5]);
    be.write(a, [9, 8], 3); // a write right after growth must land
    expect(Array.from(be.read(a))).toEqual([1, 2, 3, 9, 8]);
    be.write(big, [42], (4 << 20) - 1);
    expect(be.read(big, (4 << 20) - 1, 1)[0]).toBe(42);
    be.free(big);
    be.free(a);
  });

  it('throws a clear error past maxMemoryMB, then keeps working', async () => {
    const be = await createWasmBackend({ build: 'scalar', maxMemoryMB: 8 });
    const a = be.alloc('float32', 1000);
    be.write(a, new Float32Array(1000).fill(3));
    expect(() => be.alloc('float32', 4 << 20)).toThrow(/out of memory allocating 16777216 bytes.*limit of 8.0 MB.*maxMemoryMB/);
    expect(be.memory().buffers).toBe(1);
    const b = be.alloc('float32', 1000);
    be.write(b, [1]);
    expect(be.read(a)[999]).toBe(3);
    expect(be.read(b)[0]).toBe(1);
    be.free(a);
    be.free(b);
  });

  it('rejects float64, bad sizes, and use after free', async () => {
    const be = await createWasmBackend({ build: 'scalar' });
    expect(() => be.alloc('float64', 4)).toThrow(/float64 is not supported.*ref/);
    expect(() => be.alloc('float32', -1)).toThrow(/invalid buffer size -1/);
    const a = be.alloc('float32', 4);
    be.free(a);
    expect(() => be.read(a)).toThrow(/used after it was freed/);
    expect(() => be.free(a)).toThrow(/used after it was freed/);
    const ref = new RefBackend();
    const r = ref.alloc('float32', 4);
    expect(() => be.read(r)).toThrow(/'ref' backend was passed to the wasm backend/);
  });

  it('the ref backend turns an array the engine refuses into an out-of-memory error, and keeps working', () => {
    const ref = new RefBackend();
    const a = ref.alloc('float32', 3);
    expect(() => ref.alloc('float32', 2 ** 40)).toThrow(OutOfMemoryError);
    expect(() => ref.alloc('float64', 2 ** 40))
      .toThrow(/^ref backend: out of memory allocating 8796093022208 bytes: the engine refused a float64 array of 1099511627776 elements \(.+; 0\.0 MB in use\)/);
    expect(ref.memory()).toMatchObject({ buffers: 1, bytesInUse: 12 });
    ref.write(a, [1, 2, 3]);
    expect(Array.from(ref.read(a))).toEqual([1, 2, 3]);
  });

  it('reads and writes stay inside the buffer, on both backends', async () => {
    for (const be of [await createWasmBackend({ build: 'simd' }), new RefBackend()]) {
      const a = be.alloc('float32', 4), b = be.alloc('float32', 4);
      be.write(b, [7, 7, 7, 7]);
      expect(() => be.read(a, 0, 5)).toThrow(`${be.name} backend: read of 5 elements at 0 overflows a buffer of 4`);
      expect(() => be.read(a, 3, 2)).toThrow(`${be.name} backend: read of 2 elements at 3 overflows a buffer of 4`);
      expect(() => be.read(a, -1, 1)).toThrow(`${be.name} backend: read of 1 elements at -1 overflows a buffer of 4`);
      expect(() => be.read(a, 0.5, 1)).toThrow('read of 1 elements at 0.5 overflows');
      expect(() => be.write(a, [1, 2], 3)).toThrow(`${be.name} backend: write of 2 elements at 3 overflows a buffer of 4`);
      expect(Array.from(be.read(a, 1, 3))).toHaveLength(3);
      expect(Array.from(be.read(b))).toEqual([7, 7, 7, 7]);
      be.free(a);
      be.free(b);
    }
  });

  it('rejects a bad maxMemoryMB', async () => {
    await expect(createWasmBackend({ maxMemoryMB: 0 })).rejects.toThrow('createWasmBackend: maxMemoryMB must be in (0, 4096], got 0');
    await expect(createWasmBackend({ maxMemoryMB: 5000 })).rejects.toThrow('createWasmBackend: maxMemoryMB must be in (0, 4096], got 5000');
  });
});
