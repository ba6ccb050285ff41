// Listener hardening: connection limits per address, the idle timeout, and a client that
// stops reading its responses being cut off instead of growing the broker's memory.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { ConnectionQuotas, listen } from "../../src/net/server.ts";

const echo = (payload: Buffer): Promise<Buffer> => {
  const frame = Buffer.alloc(4 + payload.length);
  frame.writeInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  return Promise.resolve(frame);
};

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
}
const closed = (s: Socket): Promise<void> => new Promise((resolve) => s.once("close", () => resolve()));

test("connections beyond max.connections.per.ip are closed at once; the others keep working", async () => {
  const quotas = new ConnectionQuotas({ maxConnectionsPerIp: 2 });
  const l = await listen({ host: "127.0.0.1", port: 0, handler: echo, quotas, onError: () => undefined });
  const a = await open(l.port);
  const b = await open(l.port);
  const c = await open(l.port);
  await closed(c);
  assert.equal(quotas.refused, 1);
  assert.equal(quotas.countOf("127.0.0.1"), 2);
  a.destroy();
  await closed(a);
  await new Promise((r) => setTimeout(r, 20));
  const d = await open(l.port);
  assert.equal(d.destroyed, false, "a slot freed by a close is reusable");
  b.destroy();
  d.destroy();
  await l.close();
});

test("an idle connection is closed after connections.max.idle.ms", async () => {
  const l = await listen({
    host: "127.0.0.1",
    port: 0,
    handler: echo,
    idleTimeoutMs: 100,
    onError: () => undefined,
  });
  const s = await open(l.port);
  const t0 = Date.now();
  await closed(s);
  assert.ok(Date.now() - t0 >= 90);
  await l.close();
});

test("a client that never reads its responses stops being read, then is closed; memory stays bounded", async () => {
  const big = Buffer.alloc(1 << 20, 7);
  const bigAnswer = (): Promise<Buffer> => {
    const frame = Buffer.alloc(4 + big.length);
    frame.writeInt32BE(big.length, 0);
    big.copy(frame, 4);
    return Promise.resolve(frame);
  };
  const l = await listen({
    host: "127.0.0.1",
    port: 0,
    handler: bigAnswer,
    idleTimeoutMs: 300,
    maxBytesInFlightPerConnection: 4 << 20,
    onError: () => undefined,
  });
  try {
    const s = await open(l.port);
    s.pause(); // never read
    const request = Buffer.from([0, 0, 0, 4, 1, 2, 3, 4]);
    let written = 0;
    const writer = setInterval(() => {
      if (s.destroyed) return;
      for (let i = 0; i < 100; i++) s.write(request);
      written += 100;
    }, 5);
    await closed(s);
    clearInterval(writer);
    // The server's own close event may come a moment after the client saw the socket close.
    for (let i = 0; i < 100 && l.connections.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const conn = [...l.connections][0];
    assert.equal(conn, undefined, "the connection is gone");
    assert.ok(written > 100, "the client kept sending");
  } finally {
    await l.close();
  }
});
