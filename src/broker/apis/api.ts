// The shape of one Kafka API's handler. Each file in this folder exports one handler; the
// list in index.ts drives both request dispatch and the ApiVersions answer.
import type { Input } from "../../protocol/codec-runtime.ts";
import type { ApiKeyNumber, ApiMessages } from "../../protocol/generated/index.ts";
import type { BrokerContext } from "../broker-context.ts";
import type { SecuritySession } from "../security/sasl-session.ts";

export interface RequestContext {
  readonly broker: BrokerContext;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** The client's address, as Kafka reports it in group descriptions ("/127.0.0.1"). */
  readonly clientHost: string;
  /** The connection's listener, principal and SASL state. */
  readonly session: SecuritySession;
  /**
   * Whether the principal may do `operation` (AclOperation) on a resource (AclResourceType);
   * always true when no authorizer is configured.
   */
  authorize(operation: number, resourceType: number, resourceName: string): boolean;
  /**
   * A buffer for bytes that go into this request's response and nowhere else (fetched
   * records): it is reused once the response has been written to the socket.
   */
  responseBuffer(size: number): Buffer;
  /** Gives back a responseBuffer() buffer that the response will not carry after all. */
  releaseResponseBuffer(buf: Buffer): void;
}

export type ResponseOf<K extends ApiKeyNumber> = Input<ApiMessages[K]["response"]>;

export interface ApiHandler<K extends ApiKeyNumber> {
  readonly key: K;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * The lowest version ApiVersions advertises, when it must be below minVersion; requests
   * below minVersion are still refused. Only Produce needs it (see produce.ts).
   */
  readonly advertisedMinVersion?: number;
  /**
   * Nothing refers to the request's bytes once handle() has settled (everything was copied or
   * written by then), so a large request's buffer may be reused for the next one.
   */
  readonly requestDoneWhenSettled?: boolean;
  /** The response body, or null when the request gets no response (Produce with acks=0). */
  handle(request: ApiMessages[K]["request"], ctx: RequestContext): Promise<ResponseOf<K> | null>;
}

export type AnyApiHandler = { [K in ApiKeyNumber]: ApiHandler<K> }[ApiKeyNumber];

/** Declares a handler with its types checked against the API key. */
export function defineApi<K extends ApiKeyNumber>(handler: ApiHandler<K>): ApiHandler<K> {
  return handler;
}

/**
 * Promise.all that settles only once every promise has. A handler with requestDoneWhenSettled
 * uses it over its appends: the request's buffer is reused once handle() settles, so no append
 * may still be reading it then, even if another one failed.
 */
export async function allSettled<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((r) => r.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
