/**
 * Byte stream -> messages. Collects bytes up to each 0x00 delimiter in one preallocated buffer, COBS-decodes
 * in place, checks length, CRC, type and frame sequence, and hands each good frame to the handler as the
 * framer's one reusable Message (valid only during the call; copy what you keep).
 *
 * Resynchronisation: a frame ends at the next 0x00 whatever came before, so garbage costs at most the frame
 * it lands in. More than MAX_ENCODED bytes without a delimiter is an overflow: the frame is counted once and
 * everything up to the next 0x00 is skipped. Empty frames (0x00 0x00) are idle fill and are not counted.
 *
 * Allocates nothing per byte or per frame.
 */
import {
  DECODE_BAD_CRC,
  DECODE_BAD_LENGTH,
  DECODE_OK,
  DECODE_UNKNOWN_TYPE,
  MAX_ENCODED,
  MsgType,
  cobsDecodeInPlace,
  createMessage,
  decodePayload,
  type Message,
} from './protocol.ts';

/** Why frames were dropped. The session adds to outOfSequence and overflow for sample-level drops. */
export interface DropCounters {
  badCrc: number;
  badLength: number;
  unknownType: number;
  overflow: number;
  outOfSequence: number;
}

export interface FramerCounters extends DropCounters {
  /** Frames that passed every check and reached the handler. */
  framesOk: number;
  /** Frames never seen: gaps in the frame sequence (the frames after a gap are accepted). */
  framesMissed: number;
  bytesIn: number;
}

export const DROP_REASONS: readonly (keyof DropCounters)[] = ['badCrc', 'badLength', 'unknownType', 'overflow', 'outOfSequence'];

export function createDropCounters(): DropCounters {
  return { badCrc: 0, badLength: 0, unknownType: 0, overflow: 0, outOfSequence: 0 };
}

export function totalDropped(c: DropCounters): number {
  return c.badCrc + c.badLength + c.unknownType + c.overflow + c.outOfSequence;
}

export type MessageHandler = (msg: Message) => void;

export interface FramerOptions {
  /**
   * Track the per-direction frame sequence (default true): a frame whose fseq is behind the expected one
   * (a duplicate or a reordered frame) is dropped as outOfSequence; a jump ahead counts framesMissed.
   * HELLO and CAPABILITIES restart the sequence.
   */
  checkSequence?: boolean;
}

export class Framer {
  readonly counters: FramerCounters = {
    framesOk: 0,
    framesMissed: 0,
    bytesIn: 0,
    badCrc: 0,
    badLength: 0,
    unknownType: 0,
    overflow: 0,
    outOfSequence: 0,
  };
  /** The one message every good frame is decoded into. */
  readonly message: Message = createMessage();
  private readonly buf = new Uint8Array(MAX_ENCODED);
  private len = 0;
  private discarding = false;
  private expectedFseq = 0;
  private sequenceKnown = false;
  private readonly checkSequence: boolean;
  private readonly handler: MessageHandler;

  constructor(handler: MessageHandler, options: FramerOptions = {}) {
    this.handler = handler;
    this.checkSequence = options.checkSequence ?? true;
  }

  /** Feeds bytes chunk[start, end). Calls the handler once per good frame, in order. */
  push(chunk: Uint8Array, start = 0, end = chunk.length): void {
    const buf = this.buf;
    this.counters.bytesIn += end - start;
    for (let i = start; i < end; i++) {
      const b = chunk[i];
      if (b === 0) {
        if (this.discarding) this.discarding = false;
        else if (this.len > 0) this.frame();
        this.len = 0;
      } else if (!this.discarding) {
        if (this.len === MAX_ENCODED) {
          this.counters.overflow++;
          this.discarding = true;
          this.len = 0;
        } else {
          buf[this.len++] = b;
        }
      }
    }
  }

  /** Forgets a partial frame (e.g. after a reconnect) without counting it, and the frame sequence. */
  reset(): void {
    this.len = 0;
    this.discarding = false;
    this.sequenceKnown = false;
  }

  /** Forgets the expected frame sequence number; the next frame is accepted whatever its fseq. */
  resetSequence(): void {
    this.sequenceKnown = false;
  }

  private frame(): void {
    const c = this.counters;
    const n = cobsDecodeInPlace(this.buf, this.len);
    if (n < 0) {
      c.badLength++;
      return;
    }
    const msg = this.message;
    const r = decodePayload(this.buf, n, msg);
    if (r !== DECODE_OK) {
      if (r === DECODE_BAD_CRC) c.badCrc++;
      else if (r === DECODE_BAD_LENGTH) c.badLength++;
      else if (r === DECODE_UNKNOWN_TYPE) c.unknownType++;
      return;
    }
    if (this.checkSequence) {
      if (!this.sequenceKnown || msg.type === MsgType.HELLO || msg.type === MsgType.CAPABILITIES) {
        this.sequenceKnown = true;
      } else {
        const delta = (msg.fseq - this.expectedFseq) & 0xffff;
        if (delta >= 0x8000) {
          c.outOfSequence++;
          return;
        }
        c.framesMissed += delta;
      }
      this.expectedFseq = (msg.fseq + 1) & 0xffff;
    }
    c.framesOk++;
    this.handler(msg);
  }
}
