/**
 * Emulated boards for hardware-in-the-loop tests: builds the C firmware (firmware-bridge/firmware/) and runs it on
 * QEMU's lm3s6965evb (Cortex-M3), whose UART0 QEMU attaches to a pseudo-terminal. The host speaks first: bytes the
 * device sends before the host opened the pty are lost.
 *
 *   const elf = buildFirmware({ hidden: 32, inputs: 3, outputs: 3 });
 *   const q = await startQemu(elf);        // q.path = '/dev/pts/N'; open it with serialport
 *   ...
 *   await q.stop();
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIRMWARE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'firmware');

export interface QemuBoard {
  /** The pseudo-terminal QEMU connected the board's UART0 to. */
  readonly path: string;
  readonly process: ChildProcess;
  /** Ends QEMU (SIGTERM, then SIGKILL after 2 s) and resolves when it has exited. */
  stop(): Promise<void>;
}

export interface StartQemuOptions {
  /** Milliseconds to wait for QEMU to print its pty (default 10000). */
  timeoutMs?: number;
  /** QEMU binary (default qemu-system-arm). */
  qemu?: string;
}

/** The first of `tools` not found on PATH, or null when all are there. */
export function missingTool(tools: readonly string[]): string | null {
  for (const t of tools) {
    const r = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' });
    if (r.status !== 0) return t;
  }
  return null;
}

function make(args: string[]): void {
  const r = spawnSync('make', ['-C', FIRMWARE_DIR, '--no-print-directory', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make ${args.join(' ')} failed in ${FIRMWARE_DIR}:\n${r.stdout}\n${r.stderr}`);
}

/** Builds a host program of the firmware folder ('golden', 'bench-O2' or 'bench-O3-native'); returns its path. */
export function buildHost(target: 'golden' | 'bench-O2' | 'bench-O3-native'): string {
  make([`build/${target}`]);
  return join(FIRMWARE_DIR, 'build', target);
}

export interface FirmwareSize {
  hidden: number;
  inputs: number;
  outputs: number;
}

/** Builds the lm3s6965 firmware whose static arena fits SnAp-1/RFLO at these sizes; returns the ELF's path. */
export function buildFirmware(s: FirmwareSize = { hidden: 32, inputs: 8, outputs: 8 }): string {
  const vars = [`NS_MAX_HIDDEN=${s.hidden}`, `NS_MAX_INPUTS=${s.inputs}`, `NS_MAX_OUTPUTS=${s.outputs}`];
  make(['fw', ...vars]);
  const elf = join(FIRMWARE_DIR, 'build', `fw-n${s.hidden}-m${s.inputs}-o${s.outputs}.elf`);
  if (!existsSync(elf)) throw new Error(`make fw did not produce ${elf}`);
  return elf;
}

/** `.text`, `.data` and `.bss` of an ELF, from arm-none-eabi-size. */
export function elfSize(elf: string): { text: number; data: number; bss: number } {
  const r = spawnSync('arm-none-eabi-size', [elf], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`arm-none-eabi-size ${elf} failed: ${r.stderr}`);
  const [text, data, bss] = r.stdout.trim().split('\n')[1].trim().split(/\s+/).map(Number);
  return { text, data, bss };
}

/** Starts `qemu-system-arm -M lm3s6965evb` on elf with UART0 on a new pty; resolves once QEMU names the pty. */
export function startQemu(elf: string, o: StartQemuOptions = {}): Promise<QemuBoard> {
  const timeoutMs = o.timeoutMs ?? 10000;
  const args = ['-M', 'lm3s6965evb', '-nographic', '-monitor', 'none', '-serial', 'pty', '-kernel', elf];
  const child = spawn(o.qemu ?? 'qemu-system-arm', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exit;
    clearTimeout(t);
  };
  return new Promise<QemuBoard>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`QEMU did not report its serial pty within ${timeoutMs} ms; output so far:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /char device redirected to (\/dev\/[^\s]+) \(label serial0\)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.removeListener('data', onData);
        child.stderr!.removeListener('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve({ path: m[1], process: child, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${o.qemu ?? 'qemu-system-arm'}: ${e.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`QEMU exited (code ${code}) before reporting its pty; output:\n${out}`));
    });
  });
}

// `npx tsx firmware-bridge/qemu.ts [hidden] [inputs] [outputs]`: builds the firmware, starts it on QEMU and prints
// the pty to connect to (e.g. TEST_PORT=... npx ava test/hil.test.ts); Ctrl-C (or SIGTERM) stops QEMU.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [hidden = 32, inputs = 4, outputs = 4] = process.argv.slice(2).map(Number);
  const board = await startQemu(buildFirmware({ hidden, inputs, outputs }));
  console.log(board.path);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void board.stop().then(() => process.exit(0)));
}
