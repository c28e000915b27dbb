// The ONNX protobuf messages, built and encoded with onnx-buf (protobuf-es bindings generated from the official
// onnx.proto). This file is the only one that knows the message layout: the rest of the exporter deals in plain
// nodes, tensors and shapes. protobuf-es holds int64 fields as bigint: the numbers become bigints here only.
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AttributeType, AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema,
  TensorProto_DataType, TensorProtoSchema, ValueInfoProtoSchema,
} from 'onnx-buf';

/** The element types the exporter writes. */
export type OnnxDtype = 'float32' | 'int64';

const ELEM_TYPE: Record<OnnxDtype, TensorProto_DataType> = { float32: TensorProto_DataType.FLOAT, int64: TensorProto_DataType.INT64 };

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

/** Little-endian bytes of the values (raw_data is little-endian whatever the host). */
function rawData(values: Float32Array | BigInt64Array): Uint8Array<ArrayBuffer> {
  const view = new DataView(new ArrayBuffer(values.length * values.BYTES_PER_ELEMENT));
  values.forEach((v: number | bigint, i: number) => {
    if (typeof v === 'bigint') view.setBigInt64(i * 8, v, true);
    else view.setFloat32(i * 4, v, true);
  });
  return new Uint8Array(view.buffer);
}

function tensorProto(t: OnnxTensor): MessageInitShape<typeof TensorProtoSchema> {
  return { name: t.name, dims: t.dims.map(BigInt), dataType: ELEM_TYPE[t.dtype], rawData: rawData(t.values) };
}

const isList = (v: AttributeValue): v is readonly number[] => Array.isArray(v);

function attributeProto(name: string, v: AttributeValue): MessageInitShape<typeof AttributeProtoSchema> {
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: BigInt(v) };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (isList(v)) return { name, type: AttributeType.INTS, ints: v.map(BigInt) };
  if ('tensor' in v) return { name, type: AttributeType.TENSOR, t: tensorProto(v.tensor) };
  return { name, type: AttributeType.FLOAT, f: v.float };
}

function valueInfoProto(v: OnnxValueInfo): MessageInitShape<typeof ValueInfoProtoSchema> {
  const dim = v.shape.map((d) => ({
    value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d },
  }));
  return { name: v.name, type: { value: { case: 'tensorType', value: { elemType: ELEM_TYPE[v.dtype], shape: { dim } } } } };
}

/** The serialized ModelProto. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const graph: MessageInitShape<typeof GraphProtoSchema> = {
    name: m.graphName,
    node: m.nodes.map((n) => ({
      name: n.name, opType: n.opType, input: n.inputs, output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v)),
    })),
    initializer: m.initializers.map(tensorProto),
    input: m.inputs.map(valueInfoProto),
    output: m.outputs.map(valueInfoProto),
  };
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: BigInt(m.irVersion), producerName: 'wasmgrad', opsetImport: [{ domain: '', version: BigInt(m.opset) }], graph,
  }));
}
