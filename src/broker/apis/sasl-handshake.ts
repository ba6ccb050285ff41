// SaslHandshake (key 17). v0: the SASL tokens that follow are raw size-prefixed frames. v1:
// they travel in SaslAuthenticate requests (KIP-152). The answer lists the listener's mechanisms.
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

export const saslHandshake = defineApi({
  key: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const errorCode = ctx.session.handshake(req.mechanism, ctx.apiVersion);
    return Promise.resolve({ errorCode, mechanisms: [...ctx.session.listener.saslMechanisms] });
  },
});
