/**
 * Transport over a local stream socket (a Unix domain socket on Linux and macOS, a named pipe on Windows): the
 * byte stream Node provides without any system tool. The built-in virtual board listens on one
 * (SocketListenerTransport, the device end) and the host connects to it (SocketTransport), so the demo and
 * `run --virtual` need nothing but Node. Same contract as every Transport (firmware-bridge/transport.ts).
 *
 * The two ends behave like a board and the host's serial port:
 * - SocketTransport (host): open() connects to the path and rejects while nothing listens there (like a serial
 *   path of an unplugged board); the link ends with an Error when the board goes away.
 * - SocketListenerTransport (device): listens from listen() until unplug() or dispose(), whether or not it is
 *   open; while open it talks to the newest host that connected (an older one is disconnected, as a second
 *   program cannot hold a serial port). A host leaving does not close the device end, as a UART stays up when
 *   the USB cable's host goes away; bytes written with no host connected are dropped. unplug() drops the host
 *   and stops listening (the host sees its link end), replug() listens again.
 *
 * The host end allocates nothing per read or write, so that a live stream of 10^5 samples runs without a garbage
 * collection in the host process (bench/live.ts counts them):
 * - reads land in one preallocated 64 KiB buffer (the `onread` option of net.connect) and reach the handler as
 *   (buffer, length), instead of a new Buffer and a 'data' event per read;
 * - a write goes straight to the socket's file descriptor with fs.writeSync (the descriptor is non-blocking: the
 *   kernel takes what fits in its socket buffer and the call never waits) whenever nothing is queued in the
 *   stream; only what the kernel did not take (EAGAIN, a partial write) is copied into one Buffer and queued with
 *   socket.write(), and later writes queue behind it until the queue is empty, so bytes keep their order. Where the
 *   socket has no file descriptor (a named pipe on Windows) every write is copied and queued.
 * write() returns false when the queued bytes exceed the high-water mark (16 KiB by default), as serial.ts does.
 * The device end (the virtual board's process) copies each write and receives 'data' events.
 */
import { createConnection, createServer, type NetConnectOpts, type Server, type Socket } from 'node:net';
import { rmSync, statSync, writeSync } from 'node:fs';
import type { Transport, TransportHandlers } from '../transport.ts';

const noop = (): void => {};

/** Bytes the host end reads at most per read (the reused read buffer). */
const READ_BUFFER_BYTES = 65536;

/** The file descriptor under a connected socket, or -1 (none on Windows; Node exposes it only on its handle). */
function socketFd(s: Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : -1;
}

export interface SocketTransportOptions {
  /** Socket path (Windows: a named pipe such as \\.\pipe\neurostream-board). */
  path: string;
  /** Bytes buffered before write() returns false (default 16384). */
  highWaterMark?: number;
}

/** True when `path` names a local socket (what `neurostream board --virtual` prints) rather than a serial device. */
export function isSocketPath(path: string): boolean {
  if (process.platform === 'win32') return /^\\\\[.?]\\pipe\\/i.test(path);
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** Host end: connects to a listening board. */
export class SocketTransport implements Transport {
  readonly path: string;
  private readonly options: SocketTransportOptions;
  private socket: Socket | null = null;
  private fd = -1;
  private handlers: TransportHandlers = { data: noop, drain: noop, close: noop };
  private endLink: ((e: Error | null) => void) | null = null;
  /** Every read of every connection lands here; the handler sees it as (rx, length). */
  private readonly rx = new Uint8Array(READ_BUFFER_BYTES);
  /** The queued write's completion callback, made once per connection. */
  private afterWrite: (err?: Error | null) => void = noop;

  constructor(options: SocketTransportOptions) {
    this.path = options.path;
    this.options = options;
  }

  get isOpen(): boolean {
    return this.socket !== null;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  open(): Promise<void> {
    if (this.socket) return Promise.reject(new Error(`cannot open ${this.path}: already open`));
    const path = this.path;
    return new Promise<void>((resolve, reject) => {
      let live = false;
      const s = createConnection({
        path,
        writableHighWaterMark: this.options.highWaterMark ?? 16384,
        onread: {
          buffer: this.rx,
          callback: (n: number, buf: Uint8Array): boolean => {
            if (live) this.handlers.data(buf, n);
            return true;
          },
        },
      } as NetConnectOpts);
      const fail = (e: Error): void => {
        s.destroy();
        reject(new Error(`cannot open ${path}: ${describe(e)}. Check that the board (\`neurostream board --virtual\`) is still running and the path is the one it printed.`));
      };
      s.once('error', fail);
      s.once('connect', () => {
        s.off('error', fail);
        this.socket = s;
        this.fd = socketFd(s);
        live = true;
        this.endLink = attach(s, () => this.handlers, (e) => {
          live = false;
          if (this.socket === s) {
            this.socket = null;
            this.fd = -1;
            this.endLink = null;
          }
          this.handlers.close(e);
        }, () => new Error(`${path} closed by the board`));
        this.afterWrite = (err) => {
          if (err && this.socket === s) this.endLink?.(err);
        };
        resolve();
      });
    });
  }

  write(data: Uint8Array, length = data.length): boolean {
    const s = this.socket;
    if (!s || s.destroyed || !s.writable) return false;
    let sent = 0;
    if (this.fd >= 0 && s.writableLength === 0) {
      // nothing queued: hand the bytes to the kernel now, without a copy or a write request
      try {
        sent = writeSync(this.fd, data, 0, length);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') {
          // the link is gone (EPIPE, ECONNRESET): end it the way a failed queued write does, after this call
          s.destroy(e as Error);
          return false;
        }
      }
      if (sent === length) return true;
    }
    return s.write(Buffer.copyBytesFrom(data, sent, length - sent), this.afterWrite);
  }

  close(): Promise<void> {
    const end = this.endLink;
    if (!end) return Promise.resolve();
    end(null);
    return Promise.resolve();
  }
}

/**
 * Device end: listens at a path. Call listen() (once) before a host may connect; open() listens too if needed.
 */
export class SocketListenerTransport implements Transport {
  readonly path: string;
  private readonly options: SocketTransportOptions;
  private server: Server | null = null;
  private open_ = false;
  private unplugged = false;
  /** The connected host, adopted while open; a connection made while closed waits here. */
  private peer: Socket | null = null;
  private endPeer: ((e: Error | null) => void) | null = null;
  private pending: Socket | null = null;
  /** Every connection not yet closed, so unplug() and dispose() can end them all (server.close waits for them). */
  private readonly sockets = new Set<Socket>();
  private handlers: TransportHandlers = { data: noop, drain: noop, close: noop };

  constructor(options: SocketTransportOptions) {
    this.path = options.path;
    this.options = options;
  }

  get isOpen(): boolean {
    return this.open_;
  }

  /** A host is connected right now. */
  get hasPeer(): boolean {
    return this.peer !== null;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  /** Starts listening at the path (a stale socket file left by a killed board is removed first). */
  listen(): Promise<void> {
    if (this.server) return Promise.resolve();
    if (process.platform !== 'win32') rmSync(this.path, { force: true });
    const server = createServer({ highWaterMark: this.options.highWaterMark ?? 16384 }, (s) => this.onConnection(s));
    this.server = server;
    return new Promise<void>((resolve, reject) => {
      server.once('error', (e) => {
        if (this.server === server) this.server = null;
        reject(new Error(`cannot listen at ${this.path}: ${describe(e)}`));
      });
      server.listen(this.path, () => resolve());
    });
  }

  async open(): Promise<void> {
    if (this.unplugged) throw new Error(`cannot open ${this.path}: unplugged`);
    if (this.open_) throw new Error(`cannot open ${this.path}: already open`);
    await this.listen();
    this.open_ = true;
    const p = this.pending;
    this.pending = null;
    if (p && !p.destroyed) this.adopt(p);
  }

  write(data: Uint8Array, length = data.length): boolean {
    if (!this.open_) return false;
    const s = this.peer;
    if (!s || s.destroyed || !s.writable) return true; // nobody listening on the other side: the bytes are lost
    return s.write(Buffer.copyBytesFrom(data, 0, length), (err) => {
      if (err && this.peer === s) this.endPeer?.(err);
    });
  }

  close(): Promise<void> {
    if (!this.open_) return Promise.resolve();
    this.open_ = false;
    this.dropPeer();
    this.handlers.close(null);
    return Promise.resolve();
  }

  /** Drops the host and stops listening: the host's link ends with an error, and open() fails until replug(). */
  async unplug(): Promise<void> {
    this.unplugged = true;
    this.dropPeer();
    this.pending?.destroy();
    this.pending = null;
    await this.stopListening();
    if (this.open_) {
      this.open_ = false;
      this.handlers.close(new Error(`${this.path} unplugged`));
    }
  }

  /** Listens again after unplug(). */
  async replug(): Promise<void> {
    this.unplugged = false;
    await this.listen();
  }

  /** Closes and stops listening for good (removes the socket file). */
  async dispose(): Promise<void> {
    await this.close();
    this.pending?.destroy();
    this.pending = null;
    await this.stopListening();
  }

  private stopListening(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    if (!this.open_) {
      this.pending?.destroy();
      this.pending = s;
      s.on('error', noop);
      s.once('close', () => {
        if (this.pending === s) this.pending = null;
      });
      return;
    }
    this.adopt(s);
  }

  private adopt(s: Socket): void {
    this.dropPeer();
    this.peer = s;
    this.endPeer = attach(s, () => this.handlers, () => {
      if (this.peer === s) {
        this.peer = null;
        this.endPeer = null;
      }
      // A writer that was waiting for this host's buffer to drain waits no more: the bytes are gone with the host,
      // and a destroyed socket never emits 'drain' (the device would otherwise stay silent to the next host).
      if (this.open_) this.handlers.drain();
    }, () => null);
    // a new host starts with an empty buffer
    this.handlers.drain();
  }

  private dropPeer(): void {
    const end = this.endPeer;
    this.peer = null;
    this.endPeer = null;
    end?.(null);
  }
}

/** Wires a connected socket to the handlers; returns the function that ends the link once. */
function attach(s: Socket, handlers: () => TransportHandlers, onEnd: (e: Error | null) => void, peerGone: () => Error | null): (e: Error | null) => void {
  let ended = false;
  const end = (e: Error | null): void => {
    if (ended) return;
    ended = true;
    s.destroy();
    onEnd(e);
  };
  s.setNoDelay?.(true);
  // the host end reads through its onread callback instead (no 'data' events)
  s.on('data', (chunk: Buffer) => {
    if (!ended) handlers().data(chunk, chunk.length);
  });
  s.on('drain', () => {
    if (!ended) handlers().drain();
  });
  s.on('error', (e) => end(e));
  s.on('end', () => end(peerGone()));
  s.on('close', () => end(peerGone()));
  return end;
}

function describe(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such socket (nothing listens there)';
  if (code === 'ECONNREFUSED') return 'connection refused (nothing listens there)';
  return e.message;
}
