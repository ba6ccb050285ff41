// FindCoordinator (key 10). v1: key type, throttle, error message. v3: flexible. v4:
// batched keys. v5-6: no change for classic groups. The single node coordinates every
// group (and, once transactions land, every transactional id).
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { defineApi } from "./api.ts";

const GROUP = 0;
const TRANSACTION = 1;

export const findCoordinator = defineApi({
  key: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  handle(req, ctx) {
    const b = ctx.broker;
    const me = { nodeId: b.meta.nodeId, host: b.advertised.host, port: b.advertised.port };
    const validType = req.keyType === GROUP || req.keyType === TRANSACTION;
    if (ctx.apiVersion < 4) {
      if (!validType) {
        return Promise.resolve({
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `unknown key type ${req.keyType}`,
          nodeId: -1,
          host: "",
          port: -1,
        });
      }
      return Promise.resolve({ errorCode: 0, errorMessage: null, ...me });
    }
    const coordinators = req.coordinatorKeys.map((key) =>
      validType
        ? { key, ...me, errorCode: 0, errorMessage: null }
        : {
            key,
            nodeId: -1,
            host: "",
            port: -1,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `unknown key type ${req.keyType}`,
          },
    );
    return Promise.resolve({ coordinators });
  },
});
