/**
 * The seam between the session and whatever carries the bytes: a serial port, a pseudo-terminal, or the
 * in-memory mock. Types only; implementations live in transports/.
 *
 * Contract every implementation keeps (test/transport-contract.test.ts checks it):
 * - open() resolves when bytes can flow, or rejects with an Error whose message names the path and the cause.
 *   A transport can be opened again after close() or after the link went away (that is how reconnect works).
 * - write(data, length) sends data[0, length) (all of data when length is omitted), takes a copy of those bytes (the
 *   caller may reuse its buffer at once: the session writes from one preallocated buffer, so that no view is made per
 *   write) and returns false when the bytes waiting to go out exceed the high-water mark: the caller should wait for
 *   `drain` before writing more.
 *   Writing while not open returns false and sends nothing.
 * - `data(chunk, length)` delivers received bytes in order, chunk[0, length) (the rest of chunk is not part of it), in
 *   pieces of any size; the bytes are only valid during the call (the socket transport reads into one preallocated
 *   buffer, so that nothing is allocated per read).
 * - `close` is called once each time an open link ends: with null after close(), with an Error when the link
 *   failed (an unplug, often seen only as EIO on a write).
 */
export interface TransportHandlers {
  data(chunk: Uint8Array, length: number): void;
  drain(): void;
  close(error: Error | null): void;
}

export interface Transport {
  /** Device path or a name, for messages. */
  readonly path: string;
  readonly isOpen: boolean;
  setHandlers(handlers: TransportHandlers): void;
  open(): Promise<void>;
  write(data: Uint8Array, length?: number): boolean;
  close(): Promise<void>;
}
