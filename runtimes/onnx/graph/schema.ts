import protobuf from 'protobufjs';
import { packagePath } from '../../../core/config/paths.js';

/**
 * ONNX tensor element types (`TensorProto.DataType`), official numbering.
 * Only the ones our graphs use are listed.
 */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** One of the {@link DataType} codes. */
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** ONNX `AttributeProto.AttributeType` codes, official numbering. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
} as const;

const ELEMENT_BYTES: Record<DataTypeCode, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
};

/** Bytes per element of `dataType` in `raw_data` (fixed width, little-endian). */
export function elementBytes(dataType: DataTypeCode): number {
  return ELEMENT_BYTES[dataType];
}

/** The ONNX type name used in manifests and error messages (`float32`, `int64`, ...). */
export function dataTypeName(dataType: DataTypeCode): string {
  switch (dataType) {
    case DataType.FLOAT: return 'float32';
    case DataType.FLOAT16: return 'float16';
    case DataType.DOUBLE: return 'float64';
    case DataType.INT32: return 'int32';
    case DataType.INT64: return 'int64';
    case DataType.INT8: return 'int8';
    case DataType.UINT8: return 'uint8';
    case DataType.BOOL: return 'bool';
  }
}

let root: protobuf.Root | undefined;

/**
 * The protobufjs root of proto/onnx.proto (our field-number-exact subset).
 * Loaded from the source tree because tsc does not copy .proto files to dist/.
 */
export function onnxRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.loadSync(packagePath('proto', 'onnx.proto'));
    root.resolveAll();
  }
  return root;
}

/** A message type of the onnx package, e.g. `onnxType('ModelProto')`. */
export function onnxType(name: string): protobuf.Type {
  return onnxRoot().lookupType(`onnx.${name}`);
}
