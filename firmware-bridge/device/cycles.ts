/**
 * Instructions per learning step on the emulated Cortex-M3 and Cortex-M4: runs bench_main.c under
 * `qemu-system-arm -icount shift=0` (every instruction advances virtual time by 1 ns) on the lm3s6965evb (M3) and the
 * mps2-an386 (M4, built with -mcpu=cortex-m4: the DSP extension), timing steps with SysTick and converting ticks to
 * instructions with a calibration loop of known length. QEMU is not cycle-accurate, so this is an instruction
 * count, not a cycle count: on silicon (CPI >= 1, flash wait states) steps/s at a given clock are at most
 * clock / instructions. Each row also carries the CRC-32 of the learner's arena after its steps, which must be the
 * same on both cores and on the host build (test/firmware-m4.test.ts).
 *   npx tsx firmware-bridge/device/cycles.ts [--json]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildFirmware, QEMU_MACHINE, type Core } from '../qemu.ts';

const CALIB_INSNS = 4 * 2 ** 20;
const MAX_N = 48;

export interface StepCost {
  core: Core;
  learner: string;
  N: number;
  inputs: number;
  outputs: number;
  instructionsPerStep: number;
  /** CRC-32 of the arena after the bench's 40 steps. */
  arenaCrc: number;
  /** Sum of the learner's saturation counters after those steps. */
  saturations: number;
}

/** The "learner N ticks calib crc saturations" lines of bench_main.c. */
export function parseBenchLines(out: string, core: Core): StepCost[] {
  const rows: StepCost[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\w+) (\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    const ticks = Number(m[3]);
    const calib = Number(m[4]);
    const instructionsPerStep = calib > 0 ? Math.round((ticks / calib) * CALIB_INSNS) : 0;
    rows.push({ core, learner: m[1], N: Number(m[2]), inputs: 4, outputs: 4, instructionsPerStep, arenaCrc: Number(m[5]), saturations: Number(m[6]) });
  }
  return rows;
}

/** Runs the bench firmware of one core under QEMU and returns its rows (120 s limit, QEMU always stopped). */
export async function measureStepInstructions(core: Core = 'm3'): Promise<StepCost[]> {
  const elf = buildFirmware({ hidden: MAX_N, inputs: 4, outputs: 4, program: 'bench', core });
  const args = ['-M', QEMU_MACHINE[core], '-nographic', '-monitor', 'none', '-serial', 'stdio', '-icount', 'shift=0', '-kernel', elf];
  const child = spawn('qemu-system-arm', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench firmware (${core}) did not finish within 120 s; output:\n${out}`)), 120000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('done')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start qemu-system-arm: ${e.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`qemu-system-arm -M ${QEMU_MACHINE[core]} exited (code ${code}) before the bench finished; output:\n${out}`));
      });
    });
  } finally {
    child.kill('SIGKILL');
  }
  return parseBenchLines(out, core);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void (async () => {
    const m3 = await measureStepInstructions('m3');
    const m4 = await measureStepInstructions('m4');
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify([...m3, ...m4]));
      return;
    }
    console.log('| learner | N | Cortex-M3 instructions / step | Cortex-M4 instructions / step | M3 steps/s at 50 MHz, 1 instruction/cycle (upper bound) | same arena CRC on M3 and M4 |');
    console.log('|---|---|---|---|---|---|');
    for (const r of m3) {
      const q = m4.find((x) => x.learner === r.learner && x.N === r.N);
      const same = q ? (q.arenaCrc === r.arenaCrc ? 'yes' : 'NO') : '-';
      console.log(`| ${r.learner} | ${r.N} | ${r.instructionsPerStep} | ${q?.instructionsPerStep ?? '-'} | ${Math.floor(50e6 / r.instructionsPerStep)} | ${same} |`);
    }
  })();
}
