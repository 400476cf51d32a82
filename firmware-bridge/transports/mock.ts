/**
 * In-memory transport for tests. State is per instance. Scriptable: emit() data towards the reader, record
 * every write, fragment reads to at most maxReadSize bytes, and simulate an unplug (reported when the next
 * write fails with EIO, as on a pseudo-terminal, or at once).
 *
 * createMockPair() links two mocks like a cable: what one writes, the other reads, asynchronously.
 */
import type { Transport, TransportHandlers } from '../transport.ts';

export interface MockTransportOptions {
  path?: string;
  /** Largest chunk a single `data` call delivers (default: unlimited). */
  maxReadSize?: number;
  /** Bytes in flight before write() returns false (default 65536). */
  highWaterMark?: number;
  /** Record writes in `writes` (default true; a long-running pair turns it off). */
  record?: boolean;
  /** How an unplug is noticed: 'write' (default, like a pty: the next write fails with EIO) or 'immediate'. */
  unplugReport?: 'write' | 'immediate';
}

const noop = (): void => {};

export class MockTransport implements Transport {
  readonly path: string;
  /** Copies of everything written, in order. */
  readonly writes: Uint8Array[] = [];
  /** Called with each write (after recording); createMockPair uses it to deliver to the peer. */
  onWrite: ((data: Uint8Array) => void) | null = null;
  opens = 0;
  private handlers: TransportHandlers = { data: noop, drain: noop, close: noop };
  private open_ = false;
  private plugged = true;
  /** The open connection was cut by an unplug (stays cut after replug, like a dead USB file descriptor). */
  private dead = false;
  private inFlight = 0;
  private needDrain = false;
  private readonly maxReadSize: number;
  private readonly highWaterMark: number;
  private readonly record: boolean;
  private readonly unplugReport: 'write' | 'immediate';
  /** Bumped at every open/close, so deliveries scheduled for an earlier connection are discarded. */
  private epoch = 0;

  constructor(options: MockTransportOptions = {}) {
    this.path = options.path ?? 'mock';
    this.maxReadSize = options.maxReadSize ?? Infinity;
    this.highWaterMark = options.highWaterMark ?? 65536;
    this.record = options.record ?? true;
    this.unplugReport = options.unplugReport ?? 'write';
  }

  get isOpen(): boolean {
    return this.open_;
  }

  get isPlugged(): boolean {
    return this.plugged;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  async open(): Promise<void> {
    if (!this.plugged) throw new Error(`cannot open ${this.path}: no such device (unplugged)`);
    if (this.open_) throw new Error(`cannot open ${this.path}: already open`);
    this.open_ = true;
    this.dead = false;
    this.epoch++;
    this.inFlight = 0;
    this.needDrain = false;
    this.opens++;
  }

  async close(): Promise<void> {
    if (!this.open_) return;
    this.open_ = false;
    this.epoch++;
    this.handlers.close(null);
  }

  write(data: Uint8Array, length = data.length): boolean {
    if (!this.open_) return false;
    if (this.dead) {
      this.fail();
      return false;
    }
    const copy = data.slice(0, length);
    if (this.record) this.writes.push(copy);
    this.inFlight += copy.length;
    const epoch = this.epoch;
    setImmediate(() => {
      if (epoch !== this.epoch) return;
      this.inFlight -= copy.length;
      if (this.onWrite) this.onWrite(copy);
      if (this.needDrain && this.inFlight <= this.highWaterMark) {
        this.needDrain = false;
        this.handlers.drain();
      }
    });
    if (this.inFlight > this.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** Delivers bytes to the reader, split into chunks of at most maxReadSize, each in its own macrotask. */
  emit(data: Uint8Array): void {
    if (!this.open_ || this.dead) return;
    const copy = data.slice();
    const epoch = this.epoch;
    for (let i = 0; i < copy.length; i += this.maxReadSize === Infinity ? copy.length : this.maxReadSize) {
      const end = Math.min(copy.length, i + (this.maxReadSize === Infinity ? copy.length : this.maxReadSize));
      const chunk = copy.subarray(i, end);
      setImmediate(() => {
        if (epoch === this.epoch && this.open_ && !this.dead) this.handlers.data(chunk, chunk.length);
      });
    }
  }

  /** Delivers bytes to the reader at once, synchronously, in chunks of at most maxReadSize (for fast fuzzing). */
  emitNow(data: Uint8Array): void {
    if (!this.open_ || this.dead) return;
    const step = this.maxReadSize === Infinity ? data.length : this.maxReadSize;
    for (let i = 0; i < data.length; i += step) {
      const chunk = data.subarray(i, Math.min(data.length, i + step));
      this.handlers.data(chunk, chunk.length);
    }
  }

  /** All recorded writes concatenated. */
  written(): Uint8Array {
    let n = 0;
    for (const w of this.writes) n += w.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const w of this.writes) {
      out.set(w, o);
      o += w.length;
    }
    return out;
  }

  /** The cable is pulled: bytes in flight are lost; open() fails until replug(). */
  unplug(): void {
    if (!this.plugged) return;
    this.plugged = false;
    if (this.open_) this.dead = true;
    this.epoch++;
    if (this.open_ && this.unplugReport === 'immediate') this.fail();
  }

  replug(): void {
    this.plugged = true;
  }

  private fail(): void {
    if (!this.open_) return;
    this.open_ = false;
    this.epoch++;
    const err = Object.assign(new Error(`write to ${this.path} failed: EIO (device unplugged)`), { code: 'EIO' });
    this.handlers.close(err);
  }
}

export interface MockPair {
  host: MockTransport;
  device: MockTransport;
  /** Pulls the cable on both ends. */
  unplug(): void;
  replug(): void;
}

/** Two mocks joined like a cable: host writes are read by the device and vice versa. */
export function createMockPair(options: MockTransportOptions = {}): MockPair {
  const host = new MockTransport({ ...options, path: options.path ?? 'mock-host' });
  const device = new MockTransport({ ...options, path: 'mock-device' });
  host.onWrite = (d) => device.emit(d);
  device.onWrite = (d) => host.emit(d);
  return {
    host,
    device,
    unplug() {
      host.unplug();
      device.unplug();
    },
    replug() {
      host.replug();
      device.replug();
    },
  };
}
