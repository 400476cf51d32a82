/**
 * Option parsers shared by the subcommands. Each throws commander's InvalidArgumentError, so a bad value is
 * reported as "error: option '--x <n>' argument 'v' is invalid. <why>" and the command exits with code 2.
 * Below them, the checks `run` and `demo` share about the board at --port (its path, --rate, the handshake's wait).
 */
import { realpathSync, statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { Failure, InputError, signalExitCode } from '../modelio.ts';
import { ConfigurationRefused, type SessionEvent } from '../../firmware-bridge/session.ts';
import { VIRTUAL_BOARD_MAX_RATE_HZ } from '../board/device.ts';

export function intOption(min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`Expected an integer >= ${min}.`);
    return n;
  };
}

export function numberOption(min: number, inclusive = true): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (inclusive ? n < min : n <= min)) {
      throw new InvalidArgumentError(`Expected a finite number ${inclusive ? '>=' : '>'} ${min}.`);
    }
    return n;
  };
}

/**
 * The link's retries said once per cause, not once per retry (run and demo): a port that does not open, a board that
 * has not answered yet (before streaming, for up to --connect-timeout) and failed reconnects after a disconnect.
 */
export class RetryNotes {
  private last = '';
  constructor(private readonly connectS: number) {}
  /**
   * Takes one session event: true when it was a retry (written when its cause is new), false for any other event,
   * which the caller says itself. `streamed`: the link has streamed; `reconnecting`: it is down after streaming.
   */
  said(e: SessionEvent, streamed: boolean, reconnecting: boolean, write: (s: string) => void): boolean {
    if (e.type === 'streaming') this.last = '';
    if (!(e.type === 'open-failed' || (e.type === 'disconnected' && (!streamed || reconnecting)))) return false;
    const what = e.type === 'disconnected' ? (streamed ? 'reconnecting: ' : 'no handshake yet: ') : '';
    if (e.message !== this.last) write(`${what}${e.message}; retrying${streamed ? '' : ` for up to ${this.connectS} s`} (Ctrl-C to stop)\n`);
    this.last = e.message;
    return true;
  }
}

/** The signals that stop a long command as Ctrl-C does: it closes what it opened, then reports. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Ctrl-C, SIGTERM and SIGHUP (a closed terminal) for a long command (run, demo): the first aborts the returned signal,
 * so the command closes what it opened and reports; a second quits at once, saying `quitNote` (what is then left
 * unwritten), with the shell's code for that signal. release() removes the handlers.
 */
export function stopOnSignals(quitNote: string): { signal: AbortSignal; release: () => void } {
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write(`\nquitting at once: ${quitNote}\n`);
      process.exit(signalExitCode(signal));
    }
    process.stderr.write(`\nstopping (${signal === 'SIGINT' ? 'Ctrl-C' : signal}; again to quit at once)\n`);
    ac.abort(signal);
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  return { signal: ac.signal, release: () => STOP_SIGNALS.forEach((sig) => process.off(sig, onSignal)) };
}

/**
 * A file or folder flag (`--out`, `--plot`, `--snapshot`, `--file`, ...): an empty value (`--out ''`, an unset shell
 * variable) is refused instead of meaning the current folder or nothing at all.
 */
export function pathOption(v: string): string {
  if (v.trim() === '') throw new InvalidArgumentError('Expected a path, got an empty one (an unset shell variable?).');
  return v;
}

/** `--window K`: a positive integer, or 0 / "inf" for full BPTT. */
export function windowOption(v: string): number {
  if (v === 'inf' || v === 'Infinity' || v === '0') return Infinity;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('Expected a positive integer number of steps, or 0 / inf for full BPTT.');
  return n;
}

/** Seeds: "1..5" (inclusive range), "1,2,7", or a mix "1..3,9". Non-negative integers below 2^32, no duplicates. */
export function parseSeeds(v: string): number[] {
  const out: number[] = [];
  for (const part of v.split(',')) {
    const p = part.trim();
    const range = /^(\d+)\.\.(\d+)$/.exec(p);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw new InvalidArgumentError(`Range ${p} runs backwards; write it low..high, e.g. 1..5.`);
      if (b - a > 10000) throw new InvalidArgumentError(`Range ${p} has more than 10000 seeds.`);
      for (let s = a; s <= b; s++) out.push(s);
    } else if (/^\d+$/.test(p)) {
      out.push(Number(p));
    } else {
      throw new InvalidArgumentError(`Expected seeds like 1..5 or 1,2,7 (got "${p}").`);
    }
  }
  for (const s of out) if (s > 0xffffffff) throw new InvalidArgumentError(`Seed ${s} does not fit in 32 bits.`);
  if (new Set(out).size !== out.length) throw new InvalidArgumentError('Seeds repeat; give each seed once.');
  return out;
}

export function choiceOption<T extends string>(choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`Expected one of: ${choices.join(', ')}.`);
    return v as T;
  };
}

/**
 * A runtime configuration error (RangeError from plan(), the scaler, ...) in the user's terms: the configuration's
 * field names (lrRec, trialLength, ...) become the flags this command has (--lr-rec, --trial-length), and advice about
 * a field the command has no flag for is dropped. `flags` maps field name -> flag, or null when the command has none.
 */
export function flagMessage(msg: string, flags: Record<string, string | null>): string {
  let out = msg;
  for (const [field, flag] of Object.entries(flags)) {
    if (flag === null) {
      out = out.replace(new RegExp(`(raise|set|increase) ${field} or `, 'g'), '');
    }
  }
  for (const [field, flag] of Object.entries(flags)) {
    // a field without a flag is spelled in words (memoryBudget -> memory budget)
    const name = flag ?? field.replace(/[A-Z]/g, (c) => ' ' + c.toLowerCase());
    out = out.replace(new RegExp(`(?<![\\w/-])${field}(?![\\w-])`, 'g'), name);
  }
  return out;
}

/** The plan()/learner configuration fields and the flags of the commands that set them. */
export const LEARNER_FLAGS: Record<string, string | null> = {
  lrRec: '--lr-rec',
  lrOut: '--lr-out',
  trialLength: '--trial-length',
  memoryBudget: '--memory-budget',
  hidden: '--hidden',
  inputs: '--inputs',
  outputs: '--outputs',
  tau: '--tau',
  learner: '--learner',
  update: '--update',
  normalizedReadout: '--normalized',
  readoutEps: '--readout-eps',
  accumulateGradient: '--accumulate-gradient',
};

// ---- the board at --port (run, demo)

/*
 * What `run` and `demo` share about the board at --port before and during the handshake: the early check of the
 * path (a typo is refused at once, exit 2) and the bounded wait for a first answer (a board that never answers ends
 * the command with advice, exit 1, the convention for "the device did not answer": a runtime failure, not bad input).
 */

/** The largest rate CONFIGURE can carry (rateHz is a u32, firmware-bridge/PROTOCOL.md). */
const WIRE_MAX_RATE_HZ = 0xffffffff;

/**
 * --rate checked before anything starts: the virtual board samples at 1..VIRTUAL_BOARD_MAX_RATE_HZ per second (its
 * CAPABILITIES' maxRateHz); a real board states its own bound in CAPABILITIES, checked at the handshake
 * (boardRefusal), and the wire carries at most a u32.
 */
export function checkRate(rate: number, virtual: boolean, command: string): void {
  const max = virtual ? VIRTUAL_BOARD_MAX_RATE_HZ : WIRE_MAX_RATE_HZ;
  if (rate <= max) return;
  throw new InputError(
    virtual
      ? `${command} --rate: the virtual board samples 1 to ${max} times a second (got ${rate}); give --rate ${max} or less`
      : `${command} --rate: the bridge protocol carries rates of 1 to ${max} Hz (got ${rate}); give the board's sample rate in Hz`,
  );
}

const CONFIG_FLAGS = { inputs: '--inputs', outputs: '--outputs', rateHz: '--rate' } as const;

/**
 * A board that cannot run what the command asked (the session's ConfigurationRefused) as bad input in the command's
 * flags (exit 2): which flag, what the board allows (its CAPABILITIES), what was asked. Other errors pass unchanged.
 */
export function boardRefusal(err: unknown, command: string, port: string, asked: { inputs: number; outputs: number; rate: number }, deviceSaid?: string | null): unknown {
  if (!(err instanceof ConfigurationRefused)) return err;
  if (err.field === null) {
    return new InputError(
      `${command}: the board at ${port} refused the configuration (--inputs ${asked.inputs}, --outputs ${asked.outputs}, --rate ${asked.rate})` +
        (deviceSaid ? `; it said: ${deviceSaid.replace(/^device error \d+: /, '').replace(/\b(rateHz|inputs|outputs)\b/g, (f) => CONFIG_FLAGS[f as keyof typeof CONFIG_FLAGS])}` : '') +
        '; give values the board supports',
    );
  }
  const flag = CONFIG_FLAGS[err.field];
  const what = err.field === 'rateHz' ? `samples at most ${err.limit} times a second` : err.field === 'inputs' ? `streams at most ${err.limit} channels` : `sends at most ${err.limit} targets per sample`;
  return new InputError(`${command} ${flag}: the board at ${port} ${what} (its CAPABILITIES; got ${flag} ${err.requested}); give ${flag} 1 to ${err.limit}`);
}

/**
 * Seconds `run` and `demo` wait for a board's first answer (the bridge handshake) before giving up; `--connect-timeout`
 * changes it. An Arduino resets when its port opens and boots in about 2 s; a QEMU or simavr board starts within a few.
 */
export const DEFAULT_CONNECT_TIMEOUT_S = 30;

/**
 * A --port that does not exist when the command starts is a typo, not a board being plugged in: refused (exit 2) rather
 * than retried. A port that exists and then goes away is retried (that is an unplug). Where device files are not paths
 * (Windows COM ports) nothing is checked. `command` and `flag` are what the user typed ("run", "--port").
 */
export function checkPortPath(port: string, command: string, flag = '--port'): void {
  if (process.platform === 'win32') return;
  let st;
  try {
    st = statSync(port);
  } catch {
    throw new InputError(`${command} ${flag}: ${port} does not exist; give the board's serial device (ls /dev/ttyACM* /dev/ttyUSB* lists them), or leave out ${flag} for the virtual board${command.startsWith('run') ? ' (--virtual)' : ''}`);
  }
  const notSerial = st.isFile() ? 'a regular file' : st.isDirectory() ? 'a directory' : st.isCharacterDevice() ? nonTtyDevice(st.rdev) : null;
  if (notSerial !== null) {
    throw new InputError(
      `${command} ${flag}: ${port} is ${notSerial}, not a serial device or the socket of a virtual board; ` +
        `give the board's serial device (ls /dev/ttyACM* /dev/ttyUSB*), or leave out ${flag} for the virtual board${command.startsWith('run') ? ' (--virtual)' : ''}`,
    );
  }
}

/**
 * Linux: what a character device is when the kernel's device list (/sys/dev/char/MAJOR:MINOR) places it outside the
 * tty class (e.g. "a character device (mem/null)" for /dev/null), else null. Devices the list does not hold
 * (pseudo-terminals) and other systems pass: the port's own open then decides.
 */
function nonTtyDevice(rdev: number): string | null {
  if (process.platform !== 'linux') return null;
  // the kernel's encoding of a device number (the glibc major()/minor() macros)
  const major = Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
  const minor = Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
  let target: string;
  try {
    target = realpathSync(`/sys/dev/char/${major}:${minor}`);
  } catch {
    return null;
  }
  if (target.includes('/tty/')) return null;
  return `a character device (${target.split('/').slice(-2).join('/')})`;
}

/** `--connect-timeout <seconds>`'s help text, the same in every command that has it. */
export const CONNECT_TIMEOUT_HELP = `seconds to wait for the board's first answer (the bridge handshake) before giving up (default ${DEFAULT_CONNECT_TIMEOUT_S})`;

/**
 * What the link showed by the time the wait ended, for noAnswerError: the last session event (an open failure, an
 * unanswered HELLO round, bytes that are not bridge frames), else what state the handshake was in.
 */
export function lastOnLink(lastEvent: string | null, state: string): string {
  if (lastEvent) return lastEvent;
  if (state === 'handshake' || state === 'configuring') return 'the port opened; HELLO sent, no answer yet';
  if (state === 'connecting') return 'the port did not open';
  return `session ${state}`;
}

/**
 * The error of a board that did not complete the handshake within `seconds`: what happened last on the link and what
 * to check, in the flags of `command`. `firmata`: how this command reads a stock StandardFirmata board ("add
 * --firmata"), or null when that advice does not apply.
 */
export function noAnswerError(o: { command: string; port: string; seconds: number; baud: number; last: string; firmata: string | null }): Error {
  return new Failure(
    `${o.command}: no answer from the board at ${o.port} within ${o.seconds} s` +
      ` (last: ${o.last})` +
      `. Check that --port is the board's serial device and that --baud is its firmware's rate (now ${o.baud}); ` +
      `that the board runs the neurostream bridge firmware (firmware-bridge/firmware, or a device speaking firmware-bridge/PROTOCOL.md)` +
      (o.firmata ? `; for a board running stock StandardFirmata, ${o.firmata}` : '') +
      `. --connect-timeout sets how long to wait.`,
  );
}
