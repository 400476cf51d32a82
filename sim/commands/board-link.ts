/**
 * What `run` and `demo` share about the board at --port before and during the handshake: the early check of the
 * path (a typo is refused at once, exit 2) and the bounded wait for a first answer (a board that never answers ends
 * the command with advice, exit 1, the convention for "the device did not answer": a runtime failure, not bad input).
 */
import { statSync } from 'node:fs';
import { InputError } from '../modelio.ts';

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
    throw new InputError(`${command} ${flag}: ${port} does not exist; give the board's serial device (ls /dev/ttyACM* /dev/ttyUSB* lists them), or leave out ${flag} for the virtual board${command === 'run' ? ' (--virtual)' : ''}`);
  }
  if (st.isFile() || st.isDirectory()) {
    throw new InputError(
      `${command} ${flag}: ${port} is a ${st.isFile() ? 'regular file' : 'directory'}, not a serial device or the socket of a virtual board; ` +
        `give the board's serial device (ls /dev/ttyACM* /dev/ttyUSB*), or leave out ${flag} for the virtual board${command === 'run' ? ' (--virtual)' : ''}`,
    );
  }
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
  return new Error(
    `${o.command}: no answer from the board at ${o.port} within ${o.seconds} s` +
      ` (last: ${o.last})` +
      `. Check that --port is the board's serial device and that --baud is its firmware's rate (now ${o.baud}); ` +
      `that the board runs the neurostream bridge firmware (firmware-bridge/firmware, or a device speaking firmware-bridge/PROTOCOL.md)` +
      (o.firmata ? `; for a board running stock StandardFirmata, ${o.firmata}` : '') +
      `. --connect-timeout sets how long to wait.`,
  );
}
