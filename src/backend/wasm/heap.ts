// The allocator for tensor storage in WebAssembly linear memory. TypeScript owns everything above the module's
// heap base: the kernels never allocate. Freed blocks go to an address-ordered free list, are merged with free
// neighbours, and are reused best-fit, so a training loop that frees and allocates the same sizes every step
// stops growing after its first step. The list stays short (tens of blocks), so a linear scan is cheap.
import { mb, outOfMemory } from '../oom.js';

/** Blocks start on 64-byte boundaries: a cache line, and v128 loads never straddle one. */
export const ALIGN = 64;
const PAGE = 65536;
/** The most a wasm32 memory can address. */
const WASM32_BYTES = 2 ** 32;

interface FreeBlock { ptr: number; bytes: number }

export { OutOfMemoryError } from '../oom.js';

export class Heap {
  private readonly freeList: FreeBlock[] = [];
  /** First byte never handed out; everything in [base, top) is either live or in freeList. */
  private top: number;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly base: number,
    /** Largest linear memory size allowed, in bytes. */
    readonly limitBytes: number,
  ) {
    this.top = base;
  }

  /** Bytes of linear memory the heap spans (live blocks, free blocks, alignment). */
  get heapBytes(): number {
    return this.top - this.base;
  }

  /** Returns the byte offset of a block of at least `bytes` bytes, 64-byte aligned. */
  alloc(bytes: number): number {
    const need = roundUp(Math.max(bytes, 1), ALIGN);
    let best = -1;
    for (let i = 0; i < this.freeList.length; i++) {
      const b = this.freeList[i]!.bytes;
      if (b >= need && (best < 0 || b < this.freeList[best]!.bytes)) {
        best = i;
        if (b === need) break;
      }
    }
    if (best >= 0) {
      const block = this.freeList[best]!;
      const ptr = block.ptr;
      if (block.bytes === need) this.freeList.splice(best, 1);
      else {
        block.ptr += need;
        block.bytes -= need;
      }
      return ptr;
    }
    // Nothing fits: extend the heap, reusing a free block that ends at the top.
    const last = this.freeList[this.freeList.length - 1];
    const start = last && last.ptr + last.bytes === this.top ? last.ptr : this.top;
    this.ensureCapacity(start + need, bytes);
    if (start !== this.top) this.freeList.pop();
    this.top = start + need;
    return start;
  }

  /** Returns a block to the heap; `bytes` must be what alloc was asked for. */
  free(ptr: number, bytes: number): void {
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    const list = this.freeList;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    const prev = list[lo - 1];
    const next = list[lo];
    if (prev && prev.ptr + prev.bytes === ptr) {
      prev.bytes += size;
      if (next && prev.ptr + prev.bytes === next.ptr) {
        prev.bytes += next.bytes;
        list.splice(lo, 1);
      }
    } else if (next && ptr + size === next.ptr) {
      next.ptr = ptr;
      next.bytes += size;
    } else {
      list.splice(lo, 0, { ptr, bytes: size });
    }
    // A free block at the top gives its bytes back to the top, so heapBytes shrinks after a spike.
    const tail = list[list.length - 1];
    if (tail && tail.ptr + tail.bytes === this.top) {
      this.top = tail.ptr;
      list.pop();
    }
  }

  /** Bytes in live blocks (alignment included), for out-of-memory messages. */
  private bytesInUse(): number {
    return this.freeList.reduce((live, b) => live - b.bytes, this.top - this.base);
  }

  private ensureCapacity(end: number, requested: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.limitBytes) {
      const inUse = `${mb(this.bytesInUse())} MB in use`;
      const why = end > WASM32_BYTES
        ? `more than the ${mb(WASM32_BYTES)} MB a wasm32 memory can address (${inUse})`
        : `the heap would reach ${mb(end)} MB, over the limit of ${mb(this.limitBytes)} MB (${inUse}` +
          (this.limitBytes < WASM32_BYTES ? '; raise it with init({ maxMemoryMB }))' : ')');
      throw outOfMemory(`wasm backend: out of memory allocating ${requested} bytes: ${why}`);
    }
    // Grow by at least a quarter of the current size so a growing workload does not grow page by page.
    const target = Math.min(this.limitBytes, Math.max(end, have + (have >> 2)));
    const pages = Math.ceil((target - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw outOfMemory(`wasm backend: out of memory allocating ${requested} bytes: the engine refused to grow ` +
        `linear memory to ${mb(have + pages * PAGE)} MB (${(e as Error).message}; ${mb(this.bytesInUse())} MB in use)`);
    }
  }
}

const roundUp = (x: number, a: number) => Math.ceil(x / a) * a;
