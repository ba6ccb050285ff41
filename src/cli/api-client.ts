// How CLI read commands reach a running control plane: --api URL, else $FERRY_API, else
// http://127.0.0.1:7070. Exit codes shared by those commands live here too.

export const DEFAULT_API = "http://127.0.0.1:7070";

/** Exit codes of the read commands, for scripts and cron. */
export const EXIT = {
  OK: 0,
  /** Something is unhealthy (a cluster down, a link down, in error or over its RPO limit). */
  UNHEALTHY: 1,
  USAGE: 2,
  /** The control plane did not answer. */
  UNREACHABLE: 3,
  /** The cluster, link or topic asked about does not exist. */
  NOT_FOUND: 4,
  /** A failover or cutover did not finish in time. */
  TIMED_OUT: 5,
  /** Refused in the state things are in (no failover to fail back, consumers still running). */
  REFUSED: 6,
} as const;

/** The control plane could not be reached or answered with an error. */
export class ApiError extends Error {
  readonly status: number | null;

  constructor(message: string, status: number | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

export function apiBase(flag: string | undefined): string {
  return (flag ?? process.env.FERRY_API ?? DEFAULT_API).replace(/\/+$/, "");
}

/**
 * GETs (or POSTs) JSON from the API; throws ApiError with the status for non-2xx answers.
 * `timeoutMs` is for routes that work a while (a failover waiting for lag 0).
 */
export async function apiRequest<T>(
  base: string,
  path: string,
  method: "GET" | "POST" = "GET",
  timeoutMs = 10_000,
): Promise<T> {
  let res: Response;
  try {
    // A control plane serving beyond loopback wants its bearer token.
    const token = process.env.FERRY_API_TOKEN;
    res = await fetch(base + path, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  } catch (e) {
    const cause = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
    throw new ApiError(
      `cannot reach the control plane at ${base} (${cause}); is \`ferry up\` running? (--api URL)`,
      null,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // Not JSON: keep the text.
    }
    throw new ApiError(message, res.status);
  }
  return JSON.parse(text) as T;
}

/** The exit code for an ApiError. */
export function exitCodeOf(e: ApiError): number {
  if (e.status === null) return EXIT.UNREACHABLE;
  if (e.status === 404) return EXIT.NOT_FOUND;
  return EXIT.UNHEALTHY;
}

/** Prints an aligned table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}
