/**
 * Instructions per learning step on the emulated Cortex-M3: runs bench_main.c under
 * `qemu-system-arm -M lm3s6965evb -icount shift=0` (every instruction advances virtual time by 1 ns), timing steps
 * with SysTick and converting ticks to instructions with a calibration loop of known length. QEMU is not
 * cycle-accurate, so this is an instruction count, not a cycle count: on silicon (CPI >= 1, flash wait states)
 * steps/s at a given clock are at most clock / instructions.
 *   npx tsx firmware-bridge/device/cycles.ts [--json]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildFirmware } from '../qemu.ts';

const CALIB_INSNS = 4 * 2 ** 20;
const MAX_N = 48;

export interface StepCost {
  learner: string;
  N: number;
  inputs: number;
  outputs: number;
  instructionsPerStep: number;
}

export async function measureStepInstructions(): Promise<StepCost[]> {
  const elf = buildFirmware({ hidden: MAX_N, inputs: 4, outputs: 4, program: 'bench' });
  const args = ['-M', 'lm3s6965evb', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-icount', 'shift=0', '-kernel', elf];
  const child = spawn('qemu-system-arm', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench firmware did not finish within 120 s; output:\n${out}`));
    }, 120000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('done')) {
        clearTimeout(timer);
        child.kill('SIGTERM');
        resolve();
      }
    });
    child.once('error', reject);
  });
  const rows: StepCost[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\w+) (\d+) (\d+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    const ticks = Number(m[3]);
    const calib = Number(m[4]);
    rows.push({ learner: m[1], N: Number(m[2]), inputs: 4, outputs: 4, instructionsPerStep: Math.round((ticks / calib) * CALIB_INSNS) });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void measureStepInstructions().then((rows) => {
    if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
    else {
      console.log('| learner | N | instructions / step | steps/s at 50 MHz, 1 instruction/cycle (upper bound) |');
      console.log('|---|---|---|---|');
      for (const r of rows) console.log(`| ${r.learner} | ${r.N} | ${r.instructionsPerStep} | ${Math.floor(50e6 / r.instructionsPerStep)} |`);
    }
  });
}
