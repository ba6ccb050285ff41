// A broker that knows two APIs, ApiVersions and Metadata, built on src/net/server.ts: enough
// for the network tests and for kcat -L. It answers Metadata for one node (itself) and echoes
// requested topic names back, so a test can tell which response belongs to which request.
import { ApiKey, apiCodec } from "../../src/protocol/generated/index.ts";
import {
  decodeRequest,
  encodeApiVersionsUnsupported,
  encodeResponse,
  peekRequestHeader,
} from "../../src/protocol/messages.ts";
import type { ApiMessages } from "../../src/protocol/generated/index.ts";
import { listen } from "../../src/net/server.ts";
import type { Listener, ListenOptions, RequestHandler } from "../../src/net/server.ts";

export const FAKE_NODE_ID = 1;
export const FAKE_CLUSTER_ID = "ferry-fake-cluster";
/** The one topic the fake broker has; any other requested name gets UNKNOWN_TOPIC_OR_PARTITION. */
export const FAKE_TOPIC = "ferry-fake-topic";

const UNKNOWN_TOPIC_OR_PARTITION = 3;
const SUPPORTED = [ApiKey.ApiVersions, ApiKey.Metadata] as const;

export interface FakeBrokerOptions {
  /** Where the broker says it lives in Metadata; read at request time (the port comes later). */
  advertised: { host: string; port: number };
  /** Milliseconds to sit on each request before answering (ordering tests randomise it). */
  delayMs?: () => number;
  /** Requests this returns true for are never answered (timeout and crash tests). */
  hold?: (apiKey: number, payload: Buffer) => boolean;
}

/** The fake broker's request handler. Produce with acks=0 gets no response, like Kafka. */
export function fakeBrokerHandler(options: FakeBrokerOptions): RequestHandler {
  return async (payload) => {
    const { apiKey } = peekRequestHeader(payload);
    if (options.hold?.(apiKey, payload)) return new Promise<never>(() => undefined);
    const delay = options.delayMs?.() ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return answer(payload, options.advertised);
  };
}

/** Starts a fake broker on 127.0.0.1 at a free port. */
export async function startFakeBroker(
  options: Omit<FakeBrokerOptions, "advertised"> & Partial<Omit<ListenOptions, "handler">> = {},
): Promise<Listener> {
  const advertised = { host: "127.0.0.1", port: 0 };
  const listener = await listen({
    host: "127.0.0.1",
    port: 0,
    ...options,
    handler: fakeBrokerHandler({ ...options, advertised }),
  });
  advertised.port = listener.port;
  return listener;
}

function answer(payload: Buffer, advertised: { host: string; port: number }): Buffer | null {
  const { apiKey, apiVersion, correlationId } = peekRequestHeader(payload);
  const apiVersionsCodec = apiCodec(ApiKey.ApiVersions);
  if (apiKey === ApiKey.ApiVersions && apiVersionsCodec && apiVersion > apiVersionsCodec.maxVersion) {
    return encodeApiVersionsUnsupported(correlationId, 0, apiVersionsCodec.maxVersion);
  }
  const { header, body } = decodeRequest(payload);
  switch (apiKey) {
    case ApiKey.ApiVersions:
      return encodeResponse(ApiKey.ApiVersions, apiVersion, correlationId, {
        apiKeys: SUPPORTED.map((key) => {
          const codec = apiCodec(key);
          return { apiKey: key, minVersion: codec?.minVersion ?? 0, maxVersion: codec?.maxVersion ?? 0 };
        }),
      });
    case ApiKey.Metadata: {
      const request = body as ApiMessages[3]["request"];
      const names = request.topics === null ? [FAKE_TOPIC] : request.topics.map((t) => t.name ?? "");
      return encodeResponse(ApiKey.Metadata, apiVersion, correlationId, {
        brokers: [{ nodeId: FAKE_NODE_ID, host: advertised.host, port: advertised.port, rack: null }],
        clusterId: FAKE_CLUSTER_ID,
        controllerId: FAKE_NODE_ID,
        topics: names.map((name) =>
          name === FAKE_TOPIC
            ? {
                name,
                partitions: [
                  {
                    partitionIndex: 0,
                    leaderId: FAKE_NODE_ID,
                    replicaNodes: [FAKE_NODE_ID],
                    isrNodes: [FAKE_NODE_ID],
                  },
                ],
              }
            : { name, errorCode: UNKNOWN_TOPIC_OR_PARTITION },
        ),
      });
    }
    case ApiKey.Produce:
      if ((body as ApiMessages[0]["request"]).acks === 0) return null;
      throw new Error("the fake broker only takes acks=0 produce requests");
    default:
      throw new Error(`the fake broker does not serve API key ${header.requestApiKey}`);
  }
}
