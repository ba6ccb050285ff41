// DescribeCluster (key 60). v0: brokers, controller, cluster id, flexible. v1: endpoint
// type (brokers or controllers); this node is both.
import { ErrorCode } from "../../protocol/error-codes.ts";
import { ApiKey } from "../../protocol/generated/index.ts";
import { AclOperation, AclResourceType, CLUSTER_RESOURCE } from "../security/acls.ts";
import { defineApi } from "./api.ts";

const BROKERS = 1;
const CONTROLLERS = 2;

export const describeCluster = defineApi({
  key: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const b = ctx.broker;
    const adv = b.advertisedByListener.get(ctx.session.listener.name) ?? b.advertised;
    if (!ctx.authorize(AclOperation.DESCRIBE, AclResourceType.CLUSTER, CLUSTER_RESOURCE))
      return Promise.resolve({
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: null,
        endpointType: req.endpointType,
        clusterId: b.meta.clusterId,
        controllerId: -1,
      });
    if (ctx.apiVersion >= 1 && req.endpointType !== BROKERS && req.endpointType !== CONTROLLERS) {
      return Promise.resolve({
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: `unknown endpoint type ${req.endpointType}`,
        endpointType: req.endpointType,
        clusterId: b.meta.clusterId,
        controllerId: -1,
      });
    }
    return Promise.resolve({
      errorCode: 0,
      errorMessage: null,
      endpointType: ctx.apiVersion >= 1 ? req.endpointType : BROKERS,
      clusterId: b.meta.clusterId,
      controllerId: b.meta.nodeId,
      brokers: [{ brokerId: b.meta.nodeId, host: adv.host, port: adv.port, rack: null }],
      clusterAuthorizedOperations: -2147483648,
    });
  },
});
