// Throwaway TLS material for tests, made with openssl in a temp directory at test time (no
// private key is committed): a CA, a server certificate for 127.0.0.1/localhost, a client
// certificate, and an unrelated CA that must not be trusted.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCerts {
  dir: string;
  caCert: string;
  /** Server key and certificate in one PEM file (ssl.keystore.location). */
  serverKeystore: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** A CA that signed nothing here. */
  otherCaCert: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** Whether openssl can run here (a test peer like kcat). */
export function opensslMissing(): string | undefined {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return undefined;
  } catch (e) {
    return `openssl cannot run (${(e as Error).message})`;
  }
}

/** Generates the certificates; a second call reuses the first one's directory. */
let made: TestCerts | undefined;
export function makeTestCerts(): TestCerts {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), "ferry-certs-"));
  const ca = (name: string): void => {
    openssl(
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        `/CN=${name}`,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.pem`,
      ],
      dir,
    );
  };
  ca("ferry-test-ca");
  ca("ferry-other-ca");
  const leaf = (name: string, subject: string, ext: string): void => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      [
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        subject,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
      ],
      dir,
    );
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ferry-test-ca.pem",
        "-CAkey",
        "ferry-test-ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.pem`,
      ],
      dir,
    );
  };
  leaf("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  leaf("client", "/O=ferry-tests/CN=alice", "extendedKeyUsage=clientAuth\n");
  const keystore = join(dir, "server-keystore.pem");
  writeFileSync(
    keystore,
    readFileSync(join(dir, "server.key"), "utf8") + readFileSync(join(dir, "server.pem"), "utf8"),
  );
  made = {
    dir,
    caCert: join(dir, "ferry-test-ca.pem"),
    serverKeystore: keystore,
    serverKey: join(dir, "server.key"),
    serverCert: join(dir, "server.pem"),
    clientKey: join(dir, "client.key"),
    clientCert: join(dir, "client.pem"),
    otherCaCert: join(dir, "ferry-other-ca.pem"),
  };
  return made;
}
