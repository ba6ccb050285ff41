// TLS for the client: a SocketFactory that opens a TLS 1.2+ connection, verifies the broker's
// certificate against a CA bundle and its name against the address dialled (both on by
// default), and offers a client certificate when one is configured.
import { isIP } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { Duplex } from "node:stream";
import { ConnectionError } from "../net/errors.ts";
import type { ConnectTarget, SocketFactory } from "../net/connection.ts";
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";

/** TLS settings; PEM text (not paths: see security-config.ts for Kafka's file settings). */
export interface TlsOptions {
  /** Trusted CA certificates (PEM); default Node's bundled public CAs. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate chain (PEM), for brokers that require one. */
  cert?: string | Buffer;
  /** Client private key (PEM). */
  key?: string | Buffer;
  /** Passphrase of an encrypted key (Kafka's ssl.key.password). */
  keyPassword?: string;
  /** Name to verify the broker certificate against instead of the host dialled. */
  serverName?: string;
  /** Kafka's ssl.endpoint.identification.algorithm=https (default true); false skips the name check only. */
  verifyHostname?: boolean;
  /** librdkafka's enable.ssl.certificate.verification (default true); false trusts any certificate. */
  verifyCertificate?: boolean;
}

/**
 * The TLS handshake with a broker failed in a way a retry will not fix: the certificate does
 * not verify, names another host, or the broker refused ours. Not retriable.
 */
export class TlsError extends KafkaError {
  readonly broker: string;
  constructor(broker: string, reason: string, cause?: unknown) {
    super(ErrorCode.NETWORK_EXCEPTION, `TLS handshake with broker ${broker} failed: ${reason}`);
    this.name = "TlsError";
    this.broker = broker;
    // The same certificate fails the same way next time: retry loops must stop on it.
    Object.defineProperty(this, "retriable", { value: false });
    if (cause !== undefined) this.cause = cause;
  }
}

// Node's codes for verification failures and the alerts a broker sends when it refuses us.
const PERMANENT =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_SSL_|ERR_TLS_)/;

/** A SocketFactory opening TLS connections with these settings. */
export function tlsSocketFactory(options: TlsOptions = {}): SocketFactory {
  const base: ConnectionOptions = {
    minVersion: "TLSv1.2",
    rejectUnauthorized: options.verifyCertificate ?? true,
    ...(options.ca === undefined ? {} : { ca: options.ca as string | Buffer | (string | Buffer)[] }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.keyPassword === undefined ? {} : { passphrase: options.keyPassword }),
  };
  const verifyHostname = options.verifyHostname ?? true;
  return (target, signal) => connectTls(target, signal, base, options.serverName, verifyHostname);
}

function connectTls(
  target: ConnectTarget,
  signal: AbortSignal,
  base: ConnectionOptions,
  serverName: string | undefined,
  verifyHostname: boolean,
): Promise<Duplex> {
  const broker = `${target.host}:${target.port}`;
  const name = serverName ?? target.host;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      ...base,
      host: target.host,
      port: target.port,
      // SNI takes DNS names only (RFC 6066); IP addresses are still checked against IP SANs.
      ...(isIP(name) === 0 ? { servername: name } : {}),
      checkServerIdentity: verifyHostname
        ? (_host, cert) => checkServerIdentity(name, cert)
        : () => undefined,
    });
    socket.setNoDelay(true);
    const onAbort = (): void => {
      socket.destroy();
      const reason: unknown = signal.reason;
      reject(reason instanceof Error ? reason : new ConnectionError(`connecting to ${broker} aborted`));
    };
    const onError = (e: Error & { code?: string }): void => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(
        PERMANENT.test(e.code ?? "")
          ? new TlsError(broker, e.message, e)
          : new ConnectionError(`cannot connect to ${broker}: ${e.message}`, e),
      );
    };
    socket.once("secureConnect", () => {
      socket.off("error", onError);
      signal.removeEventListener("abort", onAbort);
      resolve(socket);
    });
    socket.once("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
