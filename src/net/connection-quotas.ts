// Connection counts shared by every listener of a broker: a global cap (Kafka's
// `max.connections`) and a cap per client address (`max.connections.per.ip`), so one host
// opening sockets in a loop cannot use up the broker's file descriptors for everybody.

/** Limits on open connections; Infinity means none. */
export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/** Counts open connections per address; a listener asks before it keeps a new socket. */
export class ConnectionQuotas {
  readonly limits: ConnectionLimits;
  readonly #perIp = new Map<string, number>();
  #total = 0;
  /** Connections refused because a limit was reached, since start. */
  refused = 0;

  constructor(limits: Partial<ConnectionLimits> = {}) {
    this.limits = {
      maxConnections: limits.maxConnections ?? Infinity,
      maxConnectionsPerIp: limits.maxConnectionsPerIp ?? Infinity,
    };
  }

  /** Open connections in all. */
  get total(): number {
    return this.#total;
  }

  /** Open connections from one address. */
  countOf(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /**
   * Takes a slot for a new connection from `ip`; false (and nothing taken) when a limit is
   * reached. Each true must be matched by one release().
   */
  tryAcquire(ip: string): boolean {
    const ofIp = this.#perIp.get(ip) ?? 0;
    if (this.#total >= this.limits.maxConnections || ofIp >= this.limits.maxConnectionsPerIp) {
      this.refused++;
      return false;
    }
    this.#total++;
    this.#perIp.set(ip, ofIp + 1);
    return true;
  }

  /** Gives back the slot of a closed connection. */
  release(ip: string): void {
    const ofIp = this.#perIp.get(ip) ?? 0;
    if (ofIp <= 1) this.#perIp.delete(ip);
    else this.#perIp.set(ip, ofIp - 1);
    if (this.#total > 0) this.#total--;
  }
}
