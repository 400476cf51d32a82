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
import { existsSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The C firmware sources: beside this module in a checkout; from the compiled dist/, the package's own copy. */
export const FIRMWARE_DIR = existsSync(join(here, 'firmware', 'Makefile')) ? join(here, 'firmware') : join(here, '..', '..', 'firmware-bridge', 'firmware');

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
  /** The board of the image: 'm3' (lm3s6965evb, default) or 'm4' (mps2-an386); as buildFirmware's core. */
  core?: Core;
}

/** The first of `tools` not found on PATH, or null when all are there. */
export function missingTool(tools: readonly string[]): string | null {
  for (const t of tools) {
    const r = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' });
    if (r.status !== 0) return t;
  }
  return null;
}

// The builds of firmware-bridge/firmware/Makefile, run without make (keep the flags in step with it). Each output
// is written to a temporary name and renamed, so test files building side by side never see a partial file; it is
// rebuilt only when a source is newer.
const KERNEL = ['ns_activation.c', 'ns_plan.c', 'ns_kernel.c', 'ns_snapshot.c'];
const HEADERS = ['ns.h', 'ns_layout.h', 'ns_fixed.h'];
// startup.c and cycles.c are plain ARMv7-M (vector table, SysTick) and serve both boards.
const PLATFORM = {
  m3: ['platform/lm3s6965/startup.c', 'platform/lm3s6965/uart.c', 'platform/lm3s6965/cycles.c', 'platform/lm3s6965/clock.c'],
  m4: ['platform/lm3s6965/startup.c', 'platform/mps2-an386/board.c', 'platform/lm3s6965/cycles.c'],
} as const;
const LINKER = { m3: 'platform/lm3s6965/link.ld', m4: 'platform/mps2-an386/link.ld' } as const;
/** The emulated board of each core: the LM3S6965 (Cortex-M3) and the Arm MPS2 with the AN386 image (Cortex-M4 with the DSP extension). */
export const QEMU_MACHINE = { m3: 'lm3s6965evb', m4: 'mps2-an386' } as const;
export type Core = keyof typeof QEMU_MACHINE;

function compile(cc: string, out: string, deps: string[], args: string[]): string {
  const target = join(FIRMWARE_DIR, 'build', out);
  const newest = Math.max(...deps.map((d) => statSync(join(FIRMWARE_DIR, d)).mtimeMs));
  if (existsSync(target) && statSync(target).mtimeMs >= newest) return target;
  mkdirSync(join(FIRMWARE_DIR, 'build'), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-o', tmp, ...args], { cwd: FIRMWARE_DIR, encoding: 'utf8' });
  if (r.status !== 0) {
    if (existsSync(tmp)) unlinkSync(tmp);
    const err = r.error ? r.error.message : r.stderr;
    throw new Error(`${cc} ${args.join(' ')} failed in ${FIRMWARE_DIR}:\n${err}`);
  }
  renameSync(tmp, target);
  return target;
}

/**
 * Builds a host program of the firmware folder with gcc and returns its path: 'golden' (the golden-vector driver),
 * 'bench-crc' (bench_main.c on the host: the arena CRC of each bench learner), 'golden-sanitized' (the same under AddressSanitizer and UndefinedBehaviorSanitizer, aborting on the first
 * finding), 'fuzz-device' (the protocol engine device.c fed random frames, sanitized the same way), 'corners-device' (device.c
 * through the protocol corners of PROTOCOL.md 4.6), 'bench-O2',
 * 'bench-O3-native'.
 */
export function buildHost(target: 'golden' | 'golden-sanitized' | 'fuzz-device' | 'corners-device' | 'bench-O2' | 'bench-O3-native' | 'bench-crc'): string {
  const cc = process.env.CC ?? 'gcc';
  if (target === 'bench-crc') {
    // bench_main.c on the host: the arena CRC-32 of every bench learner after its steps, to compare with the boards
    const defs = ['-DNS_MAX_HIDDEN=48', '-DNS_MAX_INPUTS=4', '-DNS_MAX_OUTPUTS=4'];
    const deps = ['bench_main.c', 'platform.h', ...KERNEL, ...HEADERS];
    return compile(cc, target, deps, ['-O2', '-Wall', '-Wextra', '-std=c99', '-pedantic', '-I.', ...defs, 'bench_main.c', ...KERNEL]);
  }
  if (target === 'golden') {
    return compile(cc, target, ['host/golden.c', ...KERNEL, ...HEADERS], ['-O2', '-Wall', '-Wextra', '-std=c99', '-pedantic', '-I.', 'host/golden.c', ...KERNEL]);
  }
  if (target === 'golden-sanitized') {
    const san = ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-std=c99', '-I.'];
    return compile(cc, target, ['host/golden.c', ...KERNEL, ...HEADERS], [...san, 'host/golden.c', ...KERNEL]);
  }
  if (target === 'fuzz-device') {
    const san = ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-std=c99', '-Wall', '-Wextra', '-I.'];
    const deps = ['host/fuzz_device.c', 'device.c', 'device.h', 'platform.h', ...KERNEL, ...HEADERS];
    return compile(cc, target, deps, [...san, 'host/fuzz_device.c', 'device.c', ...KERNEL]);
  }
  if (target === 'corners-device') {
    // the protocol corners of PROTOCOL.md section 4.6 on device.c, under the same sanitizers
    const san = ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-std=c99', '-Wall', '-Wextra', '-I.'];
    const deps = ['host/corners_device.c', 'device.c', 'device.h', 'platform.h', ...KERNEL, ...HEADERS];
    return compile(cc, target, deps, [...san, 'host/corners_device.c', 'device.c', ...KERNEL]);
  }
  const opt = target === 'bench-O2' ? ['-O2'] : ['-O3', '-march=native'];
  return compile(cc, target, ['host/bench.c', ...KERNEL, ...HEADERS], [...opt, '-std=c99', '-Wall', '-Wextra', '-I.', 'host/bench.c', ...KERNEL, '-lm']);
}

export interface FirmwareSize {
  hidden: number;
  inputs: number;
  outputs: number;
  /** Arena bytes; default: SnAp-1 (RFLO's superset) at these sizes (ns.h NS_ARENA_FOR). */
  arenaBytes?: number;
  /** 'fw' (the protocol firmware, main.c) or 'bench' (bench_main.c, step timing). Default 'fw'. */
  program?: 'fw' | 'bench';
  /** 'm3': Cortex-M3 for QEMU's lm3s6965evb (default); 'm4': Cortex-M4 (DSP extension) for QEMU's mps2-an386. */
  core?: Core;
}

/** Builds an image with arm-none-eabi-gcc (newlib-nano) for s.core's board; returns the ELF's path. */
export function buildFirmware(s: FirmwareSize = { hidden: 32, inputs: 8, outputs: 8 }): string {
  const program = s.program ?? 'fw';
  const core = s.core ?? 'm3';
  const tag = core === 'm3' ? '' : `-${core}`;
  const defs = [`-DNS_MAX_HIDDEN=${s.hidden}`, `-DNS_MAX_INPUTS=${s.inputs}`, `-DNS_MAX_OUTPUTS=${s.outputs}`];
  if (s.arenaBytes !== undefined) defs.push(`-DNS_ARENA_BYTES=${s.arenaBytes}u`);
  const name = program === 'fw'
    ? `fw${tag}-n${s.hidden}-m${s.inputs}-o${s.outputs}${s.arenaBytes !== undefined ? `-a${s.arenaBytes}` : ''}.elf`
    : `bench-fw${tag}-n${s.hidden}-m${s.inputs}-o${s.outputs}.elf`;
  const mains = program === 'fw' ? ['main.c', 'device.c'] : ['bench_main.c'];
  const flags = [`-mcpu=${core === 'm3' ? 'cortex-m3' : 'cortex-m4'}`, '-mthumb', '-O2', '-std=c99', '-Wall', '-Wextra', '-ffunction-sections', '-fdata-sections', '-I.', ...defs];
  const link = ['-nostartfiles', '-T', LINKER[core], '-Wl,--gc-sections', '--specs=nano.specs'];
  const deps = [...mains, ...KERNEL, ...HEADERS, ...PLATFORM[core], 'platform.h', 'device.h', LINKER[core]];
  return compile(process.env.ARM_CC ?? 'arm-none-eabi-gcc', name, deps, [...flags, ...link, ...mains, ...KERNEL, ...PLATFORM[core]]);
}

/** `.text`, `.data` and `.bss` of an ELF, from arm-none-eabi-size. */
export function elfSize(elf: string): { text: number; data: number; bss: number } {
  const r = spawnSync('arm-none-eabi-size', [elf], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`arm-none-eabi-size ${elf} failed: ${r.stderr}`);
  const [text, data, bss] = r.stdout.trim().split('\n')[1].trim().split(/\s+/).map(Number);
  return { text, data, bss };
}

/** Starts `qemu-system-arm -M lm3s6965evb` (or o.core's board) on elf with UART0 on a new pty; resolves once QEMU names the pty. */
export function startQemu(elf: string, o: StartQemuOptions = {}): Promise<QemuBoard> {
  const timeoutMs = o.timeoutMs ?? 10000;
  const args = ['-M', QEMU_MACHINE[o.core ?? 'm3'], '-nographic', '-monitor', 'none', '-serial', 'pty', '-kernel', elf];
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
  void startQemu(buildFirmware({ hidden, inputs, outputs })).then((board) => {
    console.log(board.path);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void board.stop().then(() => process.exit(0)));
  });
}
