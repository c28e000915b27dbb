// Python source text for values: the literals the generated model.py and train_ddp.py are written with.

/** A JavaScript value as a Python literal: numbers, booleans, null (None), strings, arrays (tuples). */
export function py(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`PyTorch export: cannot write ${v} as a Python literal`);
    return String(v);
  }
  // A JSON string literal is a valid Python one (its escapes are Python's too).
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length === 1 ? `(${py(v[0])},)` : `(${v.map(py).join(', ')})`;
  throw new Error(`PyTorch export: cannot write ${typeof v} as a Python literal`);
}

/** Call arguments as Python source, keyword arguments left out where they equal PyTorch's defaults. */
export function pyArgs(args: unknown[], kwargs: [string, unknown, unknown][] = []): string[] {
  const kw = kwargs.filter(([, value, byDefault]) => py(value) !== py(byDefault)).map(([k, value]) => `${k}=${py(value)}`);
  return [...args.map(py), ...kw];
}
