// Per-API version negotiation: the highest version both this client (the codec's range, capped
// where the client does not yet speak a version's semantics) and the broker support.
import { API_CODECS, ApiKey, type ApiKeyNumber } from "../protocol/generated/index.ts";
import type { ApiVersionsResponse } from "../protocol/generated/index.ts";
import { VersionMismatchError } from "./errors.ts";

/**
 * Versions the client caps below the codec's maximum. Fetch v13+ names topics by id only, and
 * the client routes by name; Kafka 2.x-4.x brokers all still serve v12.
 */
const CLIENT_MAX: Partial<Record<number, number>> = {
  [ApiKey.Fetch]: 12,
};

/** The negotiated version of each API a broker and this client share. */
export class VersionTable {
  readonly #versions = new Map<number, number>();
  readonly #brokerRanges = new Map<number, { min: number; max: number }>();
  readonly broker: number;

  constructor(broker: number, response: Pick<ApiVersionsResponse, "apiKeys">) {
    this.broker = broker;
    for (const { apiKey, minVersion, maxVersion } of response.apiKeys) {
      this.#brokerRanges.set(apiKey, { min: minVersion, max: maxVersion });
      const codec = (API_CODECS as Record<number, { minVersion: number; maxVersion: number } | undefined>)[
        apiKey
      ];
      if (codec === undefined) continue;
      const high = Math.min(maxVersion, codec.maxVersion, CLIENT_MAX[apiKey] ?? Infinity);
      const low = Math.max(minVersion, codec.minVersion);
      if (high >= low) this.#versions.set(apiKey, high);
    }
  }

  /**
   * The version to use for an API, at least `min` and at most `max`; throws
   * VersionMismatchError when there is none.
   */
  version(apiKey: ApiKeyNumber, min = 0, max = Infinity): number {
    const negotiated = this.#versions.get(apiKey);
    const v = negotiated === undefined ? undefined : Math.min(negotiated, max);
    const range = this.#brokerRanges.get(apiKey);
    if (v === undefined || v < min || (range !== undefined && v < range.min)) {
      const detail =
        range === undefined
          ? "the broker does not support this API"
          : `broker supports v${range.min}-v${range.max}, client needs v${min}-v${max} within its codec`;
      throw new VersionMismatchError(apiKey, this.broker, detail);
    }
    return v;
  }

  /**
   * Lowers an API's version below one whose response did not decode (a server that writes
   * fields its version lacks, such as librdkafka 2.0's mock with ListOffsets v4+). Returns
   * false when no lower version is left.
   */
  demote(apiKey: number, failedVersion: number): boolean {
    const range = this.#brokerRanges.get(apiKey);
    const codec = (API_CODECS as Record<number, { minVersion: number } | undefined>)[apiKey];
    const low = Math.max(range?.min ?? 0, codec?.minVersion ?? 0);
    if (failedVersion - 1 < low) {
      this.#versions.delete(apiKey);
      return false;
    }
    this.#versions.set(apiKey, Math.min(this.#versions.get(apiKey) ?? failedVersion, failedVersion - 1));
    return true;
  }

  /** True when the API is usable at `min` or above. */
  supports(apiKey: ApiKeyNumber, min = 0): boolean {
    const v = this.#versions.get(apiKey);
    return v !== undefined && v >= min;
  }
}
