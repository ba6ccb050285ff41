// Sockets that read into buffers their owner supplies (Node's `onread`), so a large Kafka frame
// lands in its own buffer straight from the kernel instead of being copied together from
// 64 KiB chunks, each a fresh allocation for the garbage collector. Clients get such sockets
// from connectTcp; a server gets them by moving an accepted socket's handle to a new socket.
import { Socket, type SocketConstructorOpts } from "node:net";
import type { Duplex } from "node:stream";
import type { FrameDecoder } from "./frame-decoder.ts";

/** Where a socket that reads into supplied buffers delivers: a connection's frame decoder. */
export interface DirectReadSink {
  readBuffer(): Buffer;
  received(n: number, buf: Buffer): void;
}

/** Present on sockets that read into supplied buffers: attach() routes their reads to a sink. */
export const DIRECT_READS = Symbol("ferry.directReads");

export interface DirectReadPort {
  attach(sink: DirectReadSink): void;
}

/** The port of a socket made by directReadOptions' caller, if it has one. */
export function directReadPort(socket: object): DirectReadPort | undefined {
  return (socket as { [DIRECT_READS]?: DirectReadPort })[DIRECT_READS];
}

/**
 * `onread` options for a new socket, and the port to put on it: reads go to the attached sink;
 * bytes read before a sink attaches are kept for it.
 */
export function directReadOptions(): {
  onread: { buffer: () => Buffer; callback: (n: number, buf: Uint8Array) => boolean };
  port: DirectReadPort;
} {
  let sink: DirectReadSink | undefined;
  const early: Buffer[] = [];
  return {
    onread: {
      buffer: () => sink?.readBuffer() ?? Buffer.allocUnsafe(64 * 1024),
      callback: (n, buf) => {
        const b = buf as Buffer;
        if (sink !== undefined) sink.received(n, b);
        else early.push(Buffer.from(b.subarray(0, n)));
        return true;
      },
    },
    port: {
      attach: (s) => {
        sink = s;
        for (const b of early.splice(0)) s.received(b.length, b);
      },
    },
  };
}

/**
 * A socket reading into supplied buffers that takes over an accepted TCP socket, or undefined
 * when this Node cannot hand it over (the caller then keeps the original). The original must
 * not have started reading (a server made with pauseOnConnect); it is released without closing
 * the connection.
 *
 * Node offers `onread` only to sockets it creates for connect(), so this moves the accepted
 * socket's handle (Node's internal `_handle`, stable across Node 12-24) to a new Socket.
 */
export function adoptWithDirectReads(accepted: Socket): Socket | undefined {
  const internal = accepted as unknown as { _handle: unknown };
  const handle = internal._handle;
  if (handle === null || typeof handle !== "object" || !("readStart" in handle)) return undefined;
  const { onread, port } = directReadOptions();
  let adopted: Socket;
  try {
    const options: SocketConstructorOpts & { onread: typeof onread } = {
      handle: handle as unknown as SocketConstructorOpts["handle"],
      readable: true,
      writable: true,
      onread,
    };
    adopted = new Socket(options);
  } catch {
    return undefined;
  }
  // The original gives up the handle; destroying it then only settles the server's count of
  // connections (so server.close() does not wait on it) and closes nothing.
  internal._handle = null;
  accepted.destroy();
  Object.defineProperty(adopted, DIRECT_READS, { value: port });
  return adopted;
}

/**
 * Routes a socket's bytes into a frame decoder: read straight into the decoder's buffers when
 * the socket supports it, from 'data' events otherwise. `onBytes` runs after each read, unless
 * `closed()`. Returns whether reads are direct.
 */
export function feedFrameDecoder(
  socket: Duplex,
  decoder: FrameDecoder,
  onBytes: () => void,
  closed: () => boolean,
): boolean {
  const direct = directReadPort(socket);
  if (direct !== undefined) {
    direct.attach({
      readBuffer: () => decoder.readBuffer(),
      received: (n, buf) => {
        if (closed()) return;
        decoder.received(n, buf);
        onBytes();
      },
    });
    return true;
  }
  socket.on("data", (chunk: Buffer) => {
    if (closed()) return;
    decoder.push(chunk);
    onBytes();
  });
  return false;
}
