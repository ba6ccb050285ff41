// Test helpers that talk to a server with a bare socket, so server tests do not depend on
// the client Connection (and the other way round), plus a polling wait for observable state.
import { connect, createServer } from "node:net";
import type { Socket } from "node:net";
import { FrameDecoder } from "../../src/net/frame-decoder.ts";

/** A plain TCP socket to 127.0.0.1:port, once connected. */
export function connectRaw(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** A frame with the given correlation id and `padding` extra payload bytes. */
export function rawFrame(correlationId: number, padding = 0): Buffer {
  const frame = Buffer.alloc(4 + 8 + padding);
  frame.writeInt32BE(8 + padding, 0);
  frame.writeInt16BE(18, 4); // ApiVersions key, so peekRequestHeader can read it
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(correlationId, 8);
  return frame;
}

/** A response frame that carries only a correlation id. */
export function rawResponse(correlationId: number): Buffer {
  const frame = Buffer.alloc(8);
  frame.writeInt32BE(4, 0);
  frame.writeInt32BE(correlationId, 4);
  return frame;
}

/** Collects frame payloads arriving on a socket. */
export function collectFrames(socket: Socket): { frames: Buffer[]; closed: Promise<void> } {
  const decoder = new FrameDecoder();
  const frames: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(f);
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => undefined); // resets show up as "close"; tests assert on that
  return { frames, closed };
}

/** Polls until `condition` holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}
