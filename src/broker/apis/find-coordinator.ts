// FindCoordinator (key 10). v1: key type, throttle, error message. v3: flexible. v4:
// batched keys. v5-6: no change for classic groups. The single node coordinates every
// group (and, once transactions land, every transactional id).
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType } from "../security/acls.ts";
import { defineApi } from "./api.ts";

const GROUP = 0;
const TRANSACTION = 1;

export const findCoordinator = defineApi({
  key: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  handle(req, ctx) {
    const b = ctx.broker;
    const adv = b.advertisedByListener.get(ctx.session.listener.name) ?? b.advertised;
    const me = { nodeId: b.meta.nodeId, host: adv.host, port: adv.port };
    const mayDescribe = (key: string): boolean =>
      ctx.authorize(
        AclOperation.DESCRIBE,
        req.keyType === TRANSACTION ? AclResourceType.TRANSACTIONAL_ID : AclResourceType.GROUP,
        key,
      );
    const deniedCode =
      req.keyType === TRANSACTION
        ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        : ErrorCode.GROUP_AUTHORIZATION_FAILED;
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
      if (!mayDescribe(req.key))
        return Promise.resolve({ errorCode: deniedCode, errorMessage: null, nodeId: -1, host: "", port: -1 });
      return Promise.resolve({ errorCode: 0, errorMessage: null, ...me });
    }
    const coordinators = req.coordinatorKeys.map((key) =>
      validType
        ? mayDescribe(key)
          ? { key, ...me, errorCode: 0, errorMessage: null }
          : { key, nodeId: -1, host: "", port: -1, errorCode: deniedCode, errorMessage: null }
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
