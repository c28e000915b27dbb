// The ONNX protobuf messages, built and encoded with onnx-proto (protobufjs bindings generated from the official
// onnx.proto). This file is the only one that knows the message layout: the rest of the exporter deals in plain
// nodes, tensors and shapes.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** The element types the exporter writes. */
export type OnnxDtype = 'float32' | 'int64';

const ELEM_TYPE: Record<OnnxDtype, number> = { float32: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64 };

/** A dimension: a size, or the name of a size known only at run time (the batch). */
export type Dim = number | string;

/** An attribute value: an integer, a list of integers, a string, `{ float }` or `{ tensor }` (a Constant's value). */
export type AttributeValue = number | readonly number[] | string | { float: number } | { tensor: OnnxTensor };

/** A node as the exporter builds it. */
export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttributeValue>;
}

/** A constant tensor: an initializer or a Constant node's value. */
export interface OnnxTensor {
  name: string;
  dtype: OnnxDtype;
  dims: readonly number[];
  values: Float32Array | BigInt64Array;
}

/** A graph input or output. */
export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDtype;
  shape: readonly Dim[];
}

/** Everything a model file holds. */
export interface OnnxModel {
  irVersion: number;
  opset: number;
  graphName: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

const { AttributeType } = onnx.AttributeProto;

/** Little-endian bytes of the values (raw_data is little-endian whatever the host). */
function rawData(values: Float32Array | BigInt64Array): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * values.BYTES_PER_ELEMENT));
  values.forEach((v: number | bigint, i: number) => {
    if (typeof v === 'bigint') view.setBigInt64(i * 8, v, true);
    else view.setFloat32(i * 4, v, true);
  });
  return new Uint8Array(view.buffer);
}

function tensorProto(t: OnnxTensor): onnxProto.onnx.ITensorProto {
  return { name: t.name, dims: [...t.dims], dataType: ELEM_TYPE[t.dtype], rawData: rawData(t.values) };
}

const isList = (v: AttributeValue): v is readonly number[] => Array.isArray(v);

function attributeProto(name: string, v: AttributeValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (isList(v)) return { name, type: AttributeType.INTS, ints: [...v] };
  if ('tensor' in v) return { name, type: AttributeType.TENSOR, t: tensorProto(v.tensor) };
  return { name, type: AttributeType.FLOAT, f: v.float };
}

function valueInfoProto(v: OnnxValueInfo): onnxProto.onnx.IValueInfoProto {
  const dim = v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType: ELEM_TYPE[v.dtype], shape: { dim } } } };
}

/** The serialized ModelProto. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const graph: onnxProto.onnx.IGraphProto = {
    name: m.graphName,
    node: m.nodes.map((n) => ({
      name: n.name, opType: n.opType, input: n.inputs, output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v)),
    })),
    initializer: m.initializers.map(tensorProto),
    input: m.inputs.map(valueInfoProto),
    output: m.outputs.map(valueInfoProto),
  };
  return onnx.ModelProto.encode({
    irVersion: m.irVersion, producerName: 'wasmgrad', opsetImport: [{ domain: '', version: m.opset }], graph,
  }).finish();
}
