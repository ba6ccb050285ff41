// Kafka's config resource types (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs).
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { BrokerContext } from "../broker-context.ts";

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Why a broker resource name does not name this broker, or null when it does ("" = defaults). */
export function wrongBroker(name: string, b: BrokerContext): { code: number; message: string } | null {
  if (name === "" || name === String(b.meta.nodeId)) return null;
  return { code: ErrorCode.INVALID_REQUEST, message: `this is broker ${b.meta.nodeId}, not '${name}'` };
}
