import protobuf from 'protobufjs';
import { packagePath } from '../config/paths.js';
import { decodeUtf8Strict } from '../util/utf8.js';

let root: protobuf.Root | undefined;

/** The protobufjs root holding jina.proto, docarray.proto and the google well-known types. */
export function protoRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.loadSync(packagePath('proto', 'jina.proto'));
    root.resolveAll();
  }
  return root;
}

/** A message type by its full name, e.g. `jina.DataRequestProto`. */
export function protoType(name: string): protobuf.Type {
  return protoRoot().lookupType(name);
}

/** Cached message types used on hot paths. */
export const T = {
  get dataRequest() { return cached('jina.DataRequestProto'); },
  get status() { return cached('jina.StatusProto'); },
  get endpoints() { return cached('jina.EndpointsProto'); },
  get info() { return cached('jina.JinaInfoProto'); },
  get empty() { return cached('google.protobuf.Empty'); },
  get document() { return cached('docarray.DocumentProto'); },
  get documentArray() { return cached('docarray.DocumentArrayProto'); },
};

const cache = new Map<string, protobuf.Type>();
function cached(name: string): protobuf.Type {
  let t = cache.get(name);
  if (!t) cache.set(name, (t = protoType(name)));
  return t;
}

/**
 * A protobufjs Reader that refuses malformed UTF-8 in `string` fields, as
 * Python's protobuf (what Jina's clients use) does when it parses a message.
 * protobufjs's own readers substitute U+FFFD instead, which would let a
 * corrupted text reach the tokenizer and come back as a confident embedding of
 * something the client never sent. Bytes fields (`blob`, tensors) are untouched.
 */
export class StrictReader extends protobuf.Reader {
  override string(): string {
    return decodeUtf8Strict(this.bytes());
  }
}

/** A strict reader over `bytes` (a Buffer or any Uint8Array, viewed, not copied). */
export function strictReader(bytes: Uint8Array): protobuf.Reader {
  return new StrictReader(bytes);
}
