// Typed access to the kafkajs internals the compat tests drive: the per-API request encoders
// and response decoders, the request framer, and the record batch and message set codecs.
// kafkajs is CommonJS without types; these declarations cover only what the tests call.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export interface KjsEncoder {
  readonly buffer: Buffer;
}
export interface KjsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<KjsEncoder>;
}
export interface KjsResponseCodec {
  decode(payload: Buffer): Promise<unknown>;
}
export interface KjsApi {
  versions: string[];
  protocol(opts: { version: number }): (args: unknown) => {
    request: KjsRequest;
    response: KjsResponseCodec;
  };
}
export interface KjsDecoder {
  readonly offset: number;
}
export type KjsDecoderClass = new (buffer: Buffer) => KjsDecoder;
export type KjsFrame = (opts: {
  correlationId: number;
  clientId: string;
  request: KjsRequest;
}) => Promise<KjsEncoder>;
export type KjsRecord = (record: Record<string, unknown>) => KjsEncoder;
export type KjsRecordBatch = (batch: Record<string, unknown>) => Promise<KjsEncoder>;
export type KjsMessageSet = (set: {
  messageVersion: number;
  compression?: number;
  entries: object[];
}) => KjsEncoder;
export type KjsRecordBatchDecoder = (
  decoder: KjsDecoder,
) => Promise<Record<string, unknown> & { records: unknown[] }>;
export type KjsMessageSetDecoder = (decoder: KjsDecoder, size: number) => Promise<unknown[]>;

const KJS = "kafkajs/src/protocol";
export const kjsFrame = require(`${KJS}/request.js`) as KjsFrame;
export const KjsDecoder = require(`${KJS}/decoder.js`) as KjsDecoderClass;
export const kjsRecord = require(`${KJS}/recordBatch/record/v0/index.js`) as KjsRecord;
export const { RecordBatch: kjsRecordBatch } = require(`${KJS}/recordBatch/v0/index.js`) as {
  RecordBatch: KjsRecordBatch;
};
export const kjsMessageSet = require(`${KJS}/messageSet/index.js`) as KjsMessageSet;
export const kjsDecodeRecordBatch = require(`${KJS}/recordBatch/v0/decoder.js`) as KjsRecordBatchDecoder;
export const kjsDecodeMessageSet = require(`${KJS}/messageSet/decoder.js`) as KjsMessageSetDecoder;

/** kafkajs' versioned encoders and decoders of one API (its directory under requests/). */
export function kjsApi(dir: string): KjsApi {
  return require(`${KJS}/requests/${dir}/index.js`) as KjsApi;
}

/** kafkajs' compression codec ids (the Types of its message/compression module). */
export const { Types: KjsCompression } = require(`${KJS}/message/compression/index.js`) as {
  Types: { None: number; GZIP: number };
};
