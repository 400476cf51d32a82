/**
 * An emulated Arduino Uno for hardware-in-the-loop tests against stock firmware: builds the simavr harness
 * (firmware-bridge/avr/harness.c, with make) and runs an ATmega328P image on it — by default the real
 * StandardFirmata (firmware-bridge/avr/StandardFirmata.uno.hex, see avr/README.md) — with UART0 on a
 * pseudo-terminal and known sine waves on ADC0 and ADC1 (functions of simulated time).
 *
 *   const uno = await startSimavr({ speed: 0.5, adc0: { freqHz: 1, ampMv: 2000, offsetMv: 2500 } });
 *   const port = new SerialPort({ path: uno.path, baudRate: 57600 });   // then firmata-io's Firmata on it
 *   ...
 *   const report = await uno.stop();   // "harness: 12.0 s simulated in 24.0 s wall (0.50x real time), ..."
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AVR_DIR = join(dirname(fileURLToPath(import.meta.url)), 'avr');
export const STANDARD_FIRMATA_HEX = join(AVR_DIR, 'StandardFirmata.uno.hex');
/** The simavr headers the harness compiles against (Debian: libsimavr-dev). */
export const SIMAVR_HEADER = '/usr/include/simavr/sim_avr.h';

/** A sine on one ADC channel, in millivolts of a 5000 mV reference: offsetMv + ampMv sin(2 pi freqHz t). */
export interface AdcWave {
  freqHz: number;
  ampMv: number;
  offsetMv: number;
}

export interface SimavrOptions {
  /** Intel hex image for the ATmega328P (default: StandardFirmata). */
  hex?: string;
  /** Simulated seconds per wall second at most (default 1, real time). */
  speed?: number;
  /** ADC0 (default 1 Hz, 2000 mV around 2500 mV) and ADC1 (default 0.25 Hz, 1000 mV around 2500 mV). */
  adc0?: AdcWave;
  adc1?: AdcWave;
  /** Milliseconds to wait for the harness to print its pty (default 10000). */
  timeoutMs?: number;
}

export interface SimavrBoard {
  /** The pseudo-terminal on the emulated UART0 (57600 baud for StandardFirmata; the pty itself has no rate). */
  readonly path: string;
  readonly process: ChildProcess;
  /**
   * Ends the harness (SIGTERM, then SIGKILL after 2 s) and resolves with its last stderr line: simulated and wall
   * seconds, the achieved ratio, and bytes each way.
   */
  stop(): Promise<string>;
}

/** What is missing to build and run the harness (a tool or the simavr headers), or null when all are there. */
export function missingSimavrTool(): string | null {
  for (const t of ['make', process.env.CC ?? 'cc']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return t;
  }
  if (!existsSync(SIMAVR_HEADER)) return `simavr headers (${SIMAVR_HEADER}; apt-get install libsimavr-dev libelf-dev)`;
  return null;
}

/** Builds the harness with make (a no-op when it is up to date); returns the binary's path. */
export function buildHarness(): string {
  const r = spawnSync('make', ['-s', 'build/harness'], { cwd: AVR_DIR, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make build/harness failed in ${AVR_DIR}:\n${r.error ? r.error.message : r.stdout + r.stderr}`);
  return join(AVR_DIR, 'build', 'harness');
}

const waveArgs = (w: AdcWave): string[] => [w.freqHz, w.ampMv, w.offsetMv].map(String);

/** Builds the harness if needed and starts it; resolves once it names its pty. */
export function startSimavr(o: SimavrOptions = {}): Promise<SimavrBoard> {
  const bin = buildHarness();
  const timeoutMs = o.timeoutMs ?? 10000;
  const args = ['-s', String(o.speed ?? 1), o.hex ?? STANDARD_FIRMATA_HEX];
  const adc0 = o.adc0 ?? { freqHz: 1, ampMv: 2000, offsetMv: 2500 };
  const adc1 = o.adc1 ?? { freqHz: 0.25, ampMv: 1000, offsetMv: 2500 };
  args.push(...waveArgs(adc0), ...waveArgs(adc1));
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let exited = false;
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const lastLine = (): string => err.trim().split('\n').pop() ?? '';
  const stop = async (): Promise<string> => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exit;
      clearTimeout(t);
    }
    return lastLine();
  };
  return new Promise<SimavrBoard>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the simavr harness did not report its pty within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /^pty (\/dev\/\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.removeListener('data', onData);
        child.stdout!.resume();
        resolve({ path: m[1], process: child, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${e.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the simavr harness exited (code ${code}) before reporting its pty; stderr:\n${err}`));
    });
  });
}

// `npx tsx firmware-bridge/simavr.ts [speed]`: StandardFirmata on an emulated Uno with the default waves on A0/A1;
// prints the pty (open it at 57600 baud with any Firmata client); Ctrl-C (or SIGTERM) stops it.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const speed = process.argv[2] ? Number(process.argv[2]) : 1;
  void startSimavr({ speed }).then((board) => {
    console.log(board.path);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void board.stop().then((r) => (console.error(r), process.exit(0))));
  });
}
