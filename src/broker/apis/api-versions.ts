// ApiVersions (key 18). v1: throttle time. v2: no change. v3: flexible, client software
// name/version, supported and finalized features (tagged). v4: no change (KIP-896 floor).
// The answer is the handler registry itself: every handler's version range (with the
// advertised floor where a handler declares one).
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const apiVersions = defineApi({
  key: ApiKey.ApiVersions,
  minVersion: 0,
  maxVersion: 4,
  handle(_req, ctx) {
    const apiKeys = ctx.broker.apis
      .map((h) => ({
        apiKey: h.key,
        minVersion: h.advertisedMinVersion ?? h.minVersion,
        maxVersion: h.maxVersion,
      }))
      .sort((a, b) => a.apiKey - b.apiKey);
    return Promise.resolve({ errorCode: 0, apiKeys, throttleTimeMs: 0 });
  },
});
