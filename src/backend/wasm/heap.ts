// The allocator for tensor storage in WebAssembly linear memory. TypeScript owns everything above the module's
// heap base: the kernels never allocate. Freed blocks go to an address-ordered free list, are merged with free
// neighbours, and are reused best-fit, so a training loop that frees and allocates the same sizes every step
// stops growing after its first step. The list stays short (tens of blocks), so a linear scan is cheap.
//
// With guards on (the debug build), every block is surrounded by poisoned guard words, and fresh and freed blocks
// are poisoned too, so that a kernel writing outside its blocks breaks a guard (checkGuards() after every kernel
// call names the block) and a kernel reading outside them, or reading memory nobody wrote, gets NaN. Without
// guards (every release build) there is no padding and no check.
import { mb, outOfMemory } from '../oom.js';

/** Blocks start on 64-byte boundaries: a cache line, and v128 loads never straddle one. */
export const ALIGN = 64;
const PAGE = 65536;
/** The most a wasm32 memory can address. */
const WASM32_BYTES = 2 ** 32;
/** Bytes of guard words on each side of a block (debug build): a whole alignment unit, so payloads stay aligned. */
export const GUARD = ALIGN;
/**
 * The poison word at 32-bit word index i of linear memory, written into guards and into fresh and freed blocks: a
 * NaN as float32 (results that read it are NaN) and a negative int32 (out of range for any index or label). It is
 * a signalling NaN, which arithmetic never returns (it returns quiet NaNs), so a kernel that reads a guard, computes
 * and writes back still changes it; and its payload depends on the address, so a kernel that copies one guard's
 * word over another changes that one too.
 */
export function poisonAt(i: number): number {
  return (0xff800001 | (Math.imul(i, 0x9e3779b1) >>> 11)) >>> 0;
}

interface FreeBlock { ptr: number; bytes: number }

/** A live block whose guard words were overwritten: its payload offset and size in bytes, and which guard. */
export interface BrokenGuard { ptr: number; bytes: number; side: 'before' | 'after' }

export { OutOfMemoryError } from '../oom.js';

export class Heap {
  private readonly freeList: FreeBlock[] = [];
  /** First byte never handed out; everything in [base, top) is either live or in freeList. */
  private top: number;
  /** With guards: the live blocks (payload offset → bytes asked for), whose guards checkGuards() reads. */
  private readonly guarded: Map<number, number> | null;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly base: number,
    /** Largest linear memory size allowed, in bytes. */
    readonly limitBytes: number,
    guards = false,
  ) {
    this.top = base;
    this.guarded = guards ? new Map() : null;
  }

  /** Whether blocks carry guard words (the debug build). */
  get guards(): boolean {
    return this.guarded !== null;
  }

  /** Bytes of linear memory the heap spans (live blocks, free blocks, alignment). */
  get heapBytes(): number {
    return this.top - this.base;
  }

  /** Returns the byte offset of a block of at least `bytes` bytes, 64-byte aligned. */
  alloc(bytes: number): number {
    if (!this.guarded) return this.reserve(bytes);
    const span = guardedSpan(bytes);
    const ptr = this.reserve(span, bytes) + GUARD;
    this.poison(ptr - GUARD, span);
    this.guarded.set(ptr, bytes);
    return ptr;
  }

  /** Returns a block to the heap; `bytes` must be what alloc was asked for. */
  free(ptr: number, bytes: number): void {
    if (!this.guarded) return this.release(ptr, bytes);
    this.guarded.delete(ptr);
    const span = guardedSpan(bytes);
    this.poison(ptr - GUARD, span);
    this.release(ptr - GUARD, span);
  }

  /**
   * With guards: the first live block whose guard words no longer hold the poison, or null. The guard after a
   * block starts right at its last byte asked for (the padding up to the next 64 bytes is guard too), so a write
   * of one element past the end is caught.
   */
  checkGuards(): BrokenGuard | null {
    if (!this.guarded) return null;
    const words = new Uint32Array(this.memory.buffer);
    const intact = (from: number, to: number) => {
      for (let i = from >> 2; i < to >> 2; i++) if (words[i] !== poisonAt(i)) return false;
      return true;
    };
    for (const [ptr, bytes] of this.guarded) {
      if (!intact(ptr - GUARD, ptr)) return { ptr, bytes, side: 'before' };
      if (!intact(ptr + roundUp(bytes, 4), ptr - GUARD + guardedSpan(bytes))) return { ptr, bytes, side: 'after' };
    }
    return null;
  }

  private poison(from: number, bytes: number): void {
    const words = new Uint32Array(this.memory.buffer);
    for (let i = from >> 2; i < (from + bytes) >> 2; i++) words[i] = poisonAt(i);
  }

  /** The allocator proper: a block of at least `bytes` bytes, 64-byte aligned (`asked`: what the caller asked for). */
  private reserve(bytes: number, asked = bytes): number {
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
    this.ensureCapacity(start + need, asked);
    if (start !== this.top) this.freeList.pop();
    this.top = start + need;
    return start;
  }

  private release(ptr: number, bytes: number): void {
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
/** Bytes a guarded block takes: guard, payload rounded up to the alignment, guard. */
const guardedSpan = (bytes: number) => GUARD + roundUp(Math.max(bytes, 1), ALIGN) + GUARD;
