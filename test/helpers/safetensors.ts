// Safetensors bytes made by hand, for tests of damaged and hostile files: the header as given (an object, or its
// text verbatim), then the data, with no checksum — as tools other than wasmgrad write them.
export function rawSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
