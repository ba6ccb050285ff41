// SaslAuthenticate (key 36). v1: session lifetime (0 here: no re-authentication required).
// v2: flexible. One request per client token of the mechanism chosen by SaslHandshake v1; a
// failure answers SASL_AUTHENTICATION_FAILED and the connection is closed after the answer.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { SaslAuthenticationError } from "../security/scram.ts";
import { defineApi } from "./api.ts";

const NOTHING = Buffer.alloc(0);

export const saslAuthenticate = defineApi({
  key: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    try {
      const authBytes = ctx.session.authenticate(req.authBytes);
      return Promise.resolve({ errorCode: 0, errorMessage: null, authBytes, sessionLifetimeMs: 0n });
    } catch (e) {
      if (!(e instanceof SaslAuthenticationError)) throw e;
      // Logged without the token: it may carry a password.
      ctx.broker.log.warn("SASL authentication failed", {
        listener: ctx.session.listener.name,
        client: ctx.session.host,
        reason: e.message,
      });
      return Promise.resolve({
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: e.message,
        authBytes: NOTHING,
        sessionLifetimeMs: 0n,
      });
    }
  },
});
