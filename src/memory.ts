// memory(): what is alive right now — tensor objects (across backends) and the current backend's storage.
import { census } from './autograd/census.js';
import { getBackend } from './backend/registry.js';
import type { Backend } from './backend/types.js';
import { describe } from './options.js';

/** What memory() reports: live tensors, storage buffers and bytes. */
export interface MemoryInfo {
  /**
   * Live tensor objects on every backend: neither disposed nor collected (a tensor the program dropped without
   * dispose() counts until the garbage collector finds it). Views share storage, so tensors ≥ buffers.
   */
  tensors: number;
  /** Live storage buffers on the backend. */
  buffers: number;
  /** Bytes those buffers hold. */
  bytes: number;
  /** Highest `bytes` since start or resetPeak(). */
  peakBytes: number;
  /** Bytes of linear memory the wasm heap spans (live + free blocks); equals bytes on the ref backend. */
  heapBytes: number;
  /** Memory limit in bytes (init({ maxMemoryMB })), Infinity on the ref backend. */
  limitBytes: number;
}

/**
 * What is alive right now: tensor objects (on every backend) and the given backend's storage (default: the current
 * one). Compare two readings to find leaks.
 */
export function memory(backend: Backend = getBackend()): MemoryInfo {
  if (typeof backend?.memory !== 'function') throw new Error(`memory: expected a backend (or nothing for the current one), got ${describe(backend)}`);
  const m = backend.memory();
  return {
    tensors: census.live,
    buffers: m.buffers,
    bytes: m.bytesInUse,
    peakBytes: m.peakBytes,
    heapBytes: m.heapBytes,
    limitBytes: m.limitBytes,
  };
}

export { warnOnLeaks } from './autograd/census.js';

/** Starts a new peak measurement from the bytes in use now. */
export function resetPeak(backend: Backend = getBackend()): void {
  backend.resetPeak();
}
