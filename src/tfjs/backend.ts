// The TensorFlow.js backend 'wasmgrad': tensor storage in wasmgrad's linear memory, kernels from src/kernels/.
// Each tfjs dataId maps to one wasmgrad Buf with the tfjs dtype and a reference count: tfjs calls disposeData once
// per Tensor object, and kernels whose output shares its input's storage (Reshape, Identity) call incRef, so the
// Buf is freed when the last Tensor viewing it is disposed.
// The backend owns a wasmgrad backend instance of its own (createWasmBackend, in index.ts) rather than the one
// init() made current: tfjs decides its lifetime (tf.removeBackend → dispose frees its memory and threads), init()
// with other options cannot close it under tfjs's tensors, and wasmgrad's memory() and tfjs's tf.memory() each
// count their own tensors.
import { KernelBackend, engine, type BackendTimingInfo, type BackendValues, type DataId, type DataType,
  type TensorInfo } from '@tensorflow/tfjs-core';
import { OutOfMemoryError } from '../backend/oom.js';
import type { Buf, DType } from '../backend/types.js';
import type { WasmBackend } from '../backend/wasm/index.js';
import { empty, type NDArray } from '../kernels/index.js';

/** What one dataId holds: a Buf (numeric dtypes) or JS values (strings: tfjs passes them encoded as bytes). */
interface Entry {
  dtype: DataType;
  buf: Buf | null;
  strings: Uint8Array[] | null;
  refCount: number;
}

/**
 * An OutOfMemoryError from wasmgrad's heap, named after the tfjs API that allocated and saying how a tfjs user
 * raises the limit (wasmgrad's own message names init(), which does not apply here). Other errors pass unchanged.
 */
export function inTfjsTerms(api: string, e: unknown): unknown {
  if (!(e instanceof OutOfMemoryError)) return e;
  return new OutOfMemoryError(`${api}: ${e.message}. With TensorFlow.js, the 'wasmgrad' backend's limit is set by ` +
    "setWasmgradOptions({ maxMemoryMB }) from 'wasmgrad/tfjs' before it starts; free tensors with tf.dispose or tf.tidy");
}

/** The wasmgrad dtype that stores a tfjs dtype: bool is int32 0/1; complex64 (and anything else) is refused. */
export function storageDtype(dtype: DataType, api: string): DType {
  if (dtype === 'float32' || dtype === 'int32') return dtype;
  if (dtype === 'bool') return 'int32';
  throw new Error(`${api}: the 'wasmgrad' backend does not store ${dtype} tensors (it stores float32, int32, bool ` +
    `and string); run complex arithmetic on the 'cpu' backend (tf.setBackend('cpu'))`);
}

/**
 * The TensorFlow.js KernelBackend registered as 'wasmgrad': tensors live in a wasmgrad wasm backend's linear memory
 * (bool as int32, strings as JavaScript values) and tfjs kernels run on wasmgrad's kernels. Made by tfjs on first use
 * (tf.setBackend('wasmgrad')); you rarely construct it yourself.
 */
export class WasmgradBackend extends KernelBackend {
  /** Every live dataId: Map keeps its size, so numDataIds() (called around every kernel) is O(1). */
  private readonly data = new Map<DataId, Entry>();
  private disposed = false;

  /** @param wasm The wasmgrad wasm backend that holds the storage and runs the kernels. */
  constructor(readonly wasm: WasmBackend) {
    super();
  }

  /** The entry of dataId, moving it in from another backend first when tfjs still has it elsewhere. */
  private entry(dataId: DataId, api: string): Entry {
    let e = this.data.get(dataId);
    if (e === undefined) {
      this.checkUsable(api);
      // tfjs moves a tensor made on another backend lazily, when a kernel here first reads it.
      const eng = engine() as unknown as {
        state: { tensorInfo: WeakMap<DataId, { dtype: DataType }> };
        moveData(b: KernelBackend, d: DataId): void;
      };
      const info = eng.state.tensorInfo.get(dataId);
      if (info === undefined) {
        throw new Error(`${api}: this tensor's data was disposed (by tf.dispose, tidy or dispose()); ` +
          'keep the tensors you still need (tf.keep, or return them from tidy)');
      }
      // Refused before tfjs takes the data from the other backend, so the tensor stays usable there.
      if (info.dtype !== 'string') storageDtype(info.dtype, api);
      eng.moveData(this, dataId);
      e = this.data.get(dataId)!;
    }
    return e;
  }

  private checkUsable(api: string): void {
    if (this.disposed) throw new Error(`${api}: the 'wasmgrad' backend was disposed (tf.removeBackend); register it again`);
  }

  /** A wasmgrad view of the tensor's storage (no copy). Not the caller's: never free it. */
  nd(t: TensorInfo): NDArray {
    const e = this.entry(t.dataId, 'wasmgrad');
    if (e.buf === null) throw new Error(`wasmgrad: a string tensor cannot be an input of a numeric kernel`);
    return { buf: e.buf, shape: t.shape };
  }

  /** Hands a freshly computed array to tfjs under a new dataId (refCount 1); the backend owns it from then on. */
  output(x: NDArray, dtype: DataType): TensorInfo {
    const dataId = {};
    this.data.set(dataId, { dtype, buf: x.buf, strings: null, refCount: 1 });
    return { dataId, shape: [...x.shape], dtype };
  }

  /** A new, uninitialised array for a kernel's output of the given tfjs dtype. */
  empty(shape: readonly number[], dtype: DataType): NDArray {
    return empty(this.wasm, storageDtype(dtype, 'wasmgrad'), shape);
  }

  /** Stores values (or reserves storage when null) under a new dataId, refCount 1 (tfjs's KernelBackend.write). */
  override write(values: BackendValues | null, shape: number[], dtype: DataType): DataId {
    const dataId = {};
    this.store(dataId, values, shape, dtype, 1, 'wasmgrad: write');
    return dataId;
  }

  /** Takes data tfjs moves here from another backend, under its existing dataId (tfjs's KernelBackend.move). */
  override move(dataId: DataId, values: BackendValues | null, shape: number[], dtype: DataType, refCount: number): void {
    this.store(dataId, values, shape, dtype, refCount, 'wasmgrad: move');
  }

  private store(dataId: DataId, values: BackendValues | null, shape: number[], dtype: DataType, refCount: number,
    api: string): void {
    this.checkUsable(api);
    if (dtype === 'string') {
      this.data.set(dataId, { dtype, buf: null, strings: (values ?? []) as Uint8Array[], refCount });
      return;
    }
    const size = shape.reduce((a, b) => a * b, 1);
    let x: NDArray;
    try {
      x = empty(this.wasm, storageDtype(dtype, api), shape);
    } catch (e) {
      throw inTfjsTerms(api, e);
    }
    if (values != null) {
      if (values.length !== size) {
        x.buf.backend.free(x.buf);
        throw new Error(`${api}: ${values.length} values for shape [${shape.join(',')}] (${size} elements)`);
      }
      x.buf.backend.write(x.buf, values as ArrayLike<number>);
    }
    this.data.set(dataId, { dtype, buf: x.buf, strings: null, refCount });
  }

  /** The values of dataId, copied out of linear memory (bool as Uint8Array, strings as their bytes). */
  override readSync(dataId: DataId): BackendValues {
    const e = this.entry(dataId, 'wasmgrad: readSync');
    if (e.buf === null) return e.strings!.slice();
    const values = e.buf.backend.read(e.buf);
    return e.dtype === 'bool' ? Uint8Array.from(values) : values as Float32Array | Int32Array;
  }

  /** readSync, as a promise (the data is never on a GPU). */
  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  /** tfjs's reference count of dataId (0 when unknown). */
  override refCount(dataId: DataId): number {
    return this.data.get(dataId)?.refCount ?? 0;
  }

  /** Adds a reference to dataId (tfjs's reshape and identity share storage). */
  override incRef(dataId: DataId): void {
    this.entry(dataId, 'wasmgrad: incRef').refCount++;
  }

  /** Drops one reference (force: all); frees the storage with the last. Returns whether the data is gone. */
  override disposeData(dataId: DataId, force = false): boolean {
    const e = this.data.get(dataId);
    if (e === undefined) return true;
    e.refCount--;
    if (!force && e.refCount > 0) return false;
    if (e.buf?.live) e.buf.backend.free(e.buf);
    this.data.delete(dataId);
    return true;
  }

  /** Live dataIds, in O(1). */
  override numDataIds(): number {
    return this.data.size;
  }

  /** tfjs's memory report, plus wasmgrad's bytes in use and heap size (tf.memory() adds them). */
  override memory(): {
    /** Always false: the bytes are counted exactly. */
    unreliable: boolean;
    /** Why the report would be unreliable (never set). */
    reasons?: string[];
    /** Bytes of linear memory that live tensors hold. */
    numBytesInWasmgrad: number;
    /** Bytes the wasm heap spans (live and free blocks). */
    wasmgradHeapBytes: number;
  } {
    const m = this.wasm.memory();
    return { unreliable: false, numBytesInWasmgrad: m.bytesInUse, wasmgradHeapBytes: m.heapBytes };
  }

  /** Always true: time() measures with performance.now(). */
  override timerAvailable(): boolean {
    return true;
  }

  /** Runs f and reports its wall time as kernelMs (tf.time). */
  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = performance.now();
    f();
    return { kernelMs: performance.now() - start };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7; // tfjs's EPSILON_FLOAT32, as every float32 backend reports
  }

  /** Frees every tensor's storage and stops the wasm backend's worker threads (tf.removeBackend calls this). */
  override dispose(): void {
    if (this.disposed) return;
    for (const e of this.data.values()) if (e.buf?.live) e.buf.backend.free(e.buf);
    this.data.clear();
    this.wasm.close();
    this.disposed = true;
  }
}
