// Turns request frames into handler calls and responses into frames. Unknown APIs and
// versions are answered as Kafka does: ApiVersions with a v0 UNSUPPORTED_VERSION body
// (KIP-511), anything else by closing the connection; so are frames that do not parse.
import { ApiKey } from "../protocol/generated/index.ts";
import type { ApiKeyNumber } from "../protocol/generated/index.ts";
import {
  decodeRequest,
  encodeApiVersionsUnsupported,
  encodeResponse,
  peekRequestHeader,
} from "../protocol/messages.ts";
import type { ServerConnection } from "../net/server.ts";
import type { AnyApiHandler, ApiHandler, RequestContext } from "./apis/api.ts";
import type { BrokerContext } from "./broker-context.ts";

/** A request the broker refuses by closing the connection. */
export class RefusedRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedRequestError";
  }
}

export class RequestDispatcher {
  readonly #broker: BrokerContext;
  readonly #handlers: (AnyApiHandler | undefined)[] = [];

  constructor(broker: BrokerContext) {
    this.#broker = broker;
    for (const h of broker.apis) this.#handlers[h.key] = h;
  }

  /** Handles one request frame payload; resolves to the response frame or null (no response). */
  async dispatch(payload: Buffer, connection: ServerConnection): Promise<Buffer | null> {
    const { apiKey, apiVersion, correlationId } = peekRequestHeader(payload);
    const handler = this.#handlers[apiKey];
    if (handler === undefined || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) {
        const own = this.#handlers[ApiKey.ApiVersions];
        return encodeApiVersionsUnsupported(correlationId, own?.minVersion ?? 0, own?.maxVersion ?? 0);
      }
      throw new RefusedRequestError(
        `unsupported API key ${apiKey} version ${apiVersion} from ${connection.remoteAddress}`,
      );
    }
    const { header, body } = decodeRequest(payload);
    const ctx: RequestContext = {
      broker: this.#broker,
      apiVersion,
      correlationId,
      clientId: header.clientId,
      clientHost: `/${connection.remoteAddress ?? "unknown"}`,
    };
    const response = await (handler as ApiHandler<ApiKeyNumber>).handle(body, ctx);
    if (response === null) return null;
    return encodeResponse(apiKey as ApiKeyNumber, apiVersion, correlationId, response as never);
  }
}
