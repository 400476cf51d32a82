/**
 * Transport over serialport 13: real device paths (/dev/ttyACM0, /dev/ttyUSB0, COM3) and pseudo-terminals
 * (a socat pty pair). Facts this relies on (checked on Linux): a pty accepts and ignores the baud rate and
 * fails DTR/RTS ioctls (so we never set them); an unplug is reported only when a write fails (EIO), so the
 * session sends heartbeats; bytes the device sent before open() are discarded, so the host speaks first.
 * SerialPort.list() is not used (it needs udevadm).
 *
 * Each open() creates a fresh port object, so the transport can be reopened after an unplug. write() copies
 * the caller's bytes into one Buffer per call (the session calls it once per flush, not per frame).
 */
import type { SerialPort, SerialPortMock } from 'serialport';
// serialport (a native binding) is loaded by the first open(), not when this module is imported: commands that
// never open a port start without it.
let serialport: typeof import('serialport') | null = null;
import type { Transport, TransportHandlers } from '../transport.ts';

export interface SerialTransportOptions {
  path: string;
  /** Default 115200; ignored by pseudo-terminals. */
  baudRate?: number;
  /** Use serialport's in-memory SerialPortMock (create the port first with SerialPortMock.binding.createPort(path)). */
  mock?: boolean;
  /** Bytes buffered in the stream before write() returns false (default 16384). */
  highWaterMark?: number;
}

type Port = SerialPort | SerialPortMock;
const noop = (): void => {};

export class SerialTransport implements Transport {
  readonly path: string;
  private readonly options: SerialTransportOptions;
  private port: Port | null = null;
  private handlers: TransportHandlers = { data: noop, drain: noop, close: noop };
  private closing = false;
  /** Ends the current link once (reports close to the handlers); null when no link is open. */
  private endLink: ((e: Error | null) => void) | null = null;

  constructor(options: SerialTransportOptions) {
    this.path = options.path;
    this.options = options;
  }

  get isOpen(): boolean {
    return this.port !== null && this.port.isOpen && !this.closing;
  }

  /** The underlying serialport object while open (tests reach the mock binding through it). */
  get rawPort(): Port | null {
    return this.port;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  async open(): Promise<void> {
    if (this.port) throw new Error(`cannot open ${this.path}: already open`);
    serialport ??= await import('serialport');
    if (this.port) throw new Error(`cannot open ${this.path}: already open`);
    const o = this.options;
    const settings = { path: o.path, baudRate: o.baudRate ?? 115200, autoOpen: false, highWaterMark: o.highWaterMark ?? 16384, hupcl: false };
    const port: Port = o.mock ? new serialport.SerialPortMock(settings) : new serialport.SerialPort(settings);
    this.closing = false;
    return new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err) {
          reject(new Error(`cannot open ${o.path}: ${err.message.replace(/^Error: /, '')}. Check the path and that no other program holds the port.`));
          return;
        }
        this.port = port;
        let ended = false;
        const end = (e: Error | null): void => {
          if (ended) return;
          ended = true;
          if (this.port === port) {
            this.port = null;
            this.endLink = null;
          }
          if (port.isOpen) port.close(noop);
          this.handlers.close(e);
        };
        this.endLink = end;
        port.on('data', (chunk: Buffer) => this.handlers.data(chunk, chunk.length));
        port.on('drain', () => this.handlers.drain());
        port.on('error', (e: Error) => end(e));
        port.on('close', (e: Error | null) => end(this.closing ? null : (e ?? new Error(`${o.path} closed by the device`))));
        resolve();
      });
    });
  }

  write(data: Uint8Array, length = data.length): boolean {
    const port = this.port;
    if (!port || !port.isOpen || this.closing) return false;
    return port.write(Buffer.copyBytesFrom(data, 0, length), (err) => {
      if (err && this.port === port) port.emit('error', err);
    });
  }

  close(): Promise<void> {
    const port = this.port;
    const end = this.endLink;
    if (!port || !end) return Promise.resolve();
    this.closing = true;
    return new Promise<void>((resolve) => {
      if (!port.isOpen) {
        end(null);
        resolve();
        return;
      }
      // the 'close' event normally ends the link; end it here too in case a dead port fails to close cleanly
      port.close(() => {
        end(null);
        resolve();
      });
    });
  }
}
