// Allocates backend buffers from data (or zero-filled), runs fn on them, returns every buffer's contents and frees them.
import type { Backend, Buf, DType, TypedArray } from '../../src/backend/types.js';

export function withBufs(b: Backend, specs: { dtype: DType; data?: ArrayLike<number>; size?: number }[],
  fn: (bufs: Buf[]) => void): TypedArray[] {
  const bufs = specs.map((s) => {
    const buf = b.alloc(s.dtype, s.data ? s.data.length : s.size!);
    if (s.data) b.write(buf, s.data);
    else b.fill(buf, 0, 0, buf.size);
    return buf;
  });
  try {
    fn(bufs);
    return bufs.map((buf) => b.read(buf));
  } finally {
    for (const buf of bufs) b.free(buf);
  }
}
