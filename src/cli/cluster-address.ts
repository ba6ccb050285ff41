// Where `ferry produce` and `ferry consume` connect: an address (host:port[,host:port]) is
// used as it is; a name is looked up in the running topology through the control plane.
import type { ClusterView } from "../control/views.ts";
import { apiRequest } from "./api-client.ts";

/** True when the text is bootstrap servers rather than a cluster name. */
export function isAddress(text: string): boolean {
  return text.split(",").every((s) => /^[^\s:,]+:\d{1,5}$/.test(s.trim()));
}

/** Bootstrap servers for a cluster name or address; throws ApiError when a name cannot be resolved. */
export async function resolveCluster(cluster: string, api: string): Promise<string> {
  if (isAddress(cluster)) return cluster;
  const view = await apiRequest<ClusterView>(api, `/api/clusters/${encodeURIComponent(cluster)}`);
  return view.bootstrap;
}
