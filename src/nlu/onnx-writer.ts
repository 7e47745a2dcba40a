/**
 * Writes the intent MLP as an ONNX model so onnxruntime can run it:
 *   probabilities = Softmax(Relu(features · W1 + B1) · W2 + B2, axis -1)
 * Field numbers are those of onnx/onnx.proto (IR version 8, default opset 17).
 */
import { checkWeights, type MlpWeights } from './mlp.ts';
import { ProtoWriter } from './protobuf.ts';

/** The weights the writer takes: the trainer's MLP, laid out as in mlp.ts. */
export type OnnxMlpWeights = MlpWeights;

export const ONNX_INPUT = 'features';
export const ONNX_OUTPUT = 'probabilities';
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

// onnx.proto: TensorProto.DataType.FLOAT and AttributeProto.AttributeType.INT.
const FLOAT = 1;
const ATTR_INT = 2;

const Model = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8 } as const;
const Opset = { domain: 1, version: 2 } as const;
const Graph = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
const Node = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const Attr = { name: 1, i: 3, type: 20 } as const;
const Tensor = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
const ValueInfo = { name: 1, type: 2 } as const;
const TypeProto = { tensorType: 1 } as const;
const TensorType = { elemType: 1, shape: 2 } as const;
const Shape = { dim: 1 } as const;
const Dim = { value: 1, param: 2 } as const;

/** Little-endian float32 bytes whatever the host byte order, as ONNX raw_data requires. */
function floatBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

function initializer(name: string, dims: readonly number[], values: Float32Array): ProtoWriter {
  return new ProtoWriter()
    .packedVarints(Tensor.dims, dims)
    .varint(Tensor.dataType, FLOAT)
    .string(Tensor.name, name)
    .bytes(Tensor.rawData, floatBytes(values));
}

function floatMatrix(name: string, rows: string, cols: number): ProtoWriter {
  const shape = new ProtoWriter()
    .message(Shape.dim, new ProtoWriter().string(Dim.param, rows))
    .message(Shape.dim, new ProtoWriter().varint(Dim.value, cols));
  const tensorType = new ProtoWriter().varint(TensorType.elemType, FLOAT).message(TensorType.shape, shape);
  return new ProtoWriter()
    .string(ValueInfo.name, name)
    .message(ValueInfo.type, new ProtoWriter().message(TypeProto.tensorType, tensorType));
}

function node(
  opType: string,
  inputs: readonly string[],
  output: string,
  intAttrs: Record<string, number> = {},
): ProtoWriter {
  const n = new ProtoWriter();
  for (const i of inputs) n.string(Node.input, i);
  n.string(Node.output, output).string(Node.name, output).string(Node.opType, opType);
  for (const [name, value] of Object.entries(intAttrs))
    n.message(
      Node.attribute,
      new ProtoWriter().string(Attr.name, name).varint(Attr.i, value).varint(Attr.type, ATTR_INT),
    );
  return n;
}

/** The serialized ModelProto. Throws NLU_MODEL_INVALID if the weights do not match their declared shape. */
export function mlpToOnnx(
  weights: OnnxMlpWeights,
  meta: { producer?: string; version?: string } = {},
): Uint8Array {
  checkWeights(weights);
  const { inputDims, hidden, labels } = weights;

  const graph = new ProtoWriter()
    .message(Graph.node, node('MatMul', [ONNX_INPUT, 'W1'], 'h_mm'))
    .message(Graph.node, node('Add', ['h_mm', 'B1'], 'h_pre'))
    .message(Graph.node, node('Relu', ['h_pre'], 'h'))
    .message(Graph.node, node('MatMul', ['h', 'W2'], 'logits_mm'))
    .message(Graph.node, node('Add', ['logits_mm', 'B2'], 'logits'))
    .message(Graph.node, node('Softmax', ['logits'], ONNX_OUTPUT, { axis: -1 }))
    .string(Graph.name, 'intent_mlp')
    .message(Graph.initializer, initializer('W1', [inputDims, hidden], weights.w1))
    .message(Graph.initializer, initializer('B1', [hidden], weights.b1))
    .message(Graph.initializer, initializer('W2', [hidden, labels], weights.w2))
    .message(Graph.initializer, initializer('B2', [labels], weights.b2))
    .message(Graph.input, floatMatrix(ONNX_INPUT, 'batch', inputDims))
    .message(Graph.output, floatMatrix(ONNX_OUTPUT, 'batch', labels));

  const model = new ProtoWriter()
    .varint(Model.irVersion, ONNX_IR_VERSION)
    .string(Model.producerName, meta.producer ?? 'switchboard');
  if (meta.version !== undefined) model.string(Model.producerVersion, meta.version);
  return model
    .message(Model.graph, graph)
    .message(Model.opsetImport, new ProtoWriter().string(Opset.domain, '').varint(Opset.version, ONNX_OPSET))
    .finish();
}
