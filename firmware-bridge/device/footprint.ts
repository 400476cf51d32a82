/**
 * Flash and RAM of the protocol firmware for an RFLO learner (4 inputs, 4 outputs) at several N, on the Cortex-M3
 * (lm3s6965) and the Cortex-M4 (mps2-an386, linked into the same 256 KB flash / 64 KB SRAM), with the static
 * arena sized exactly to runtime/plan.ts's arena for that learner, and the largest N that still links (64 KB SRAM
 * minus the 4 KB stack reserve, 256 KB flash). Prints a markdown table (and JSON with --json).
 *   npx tsx firmware-bridge/device/footprint.ts [--json]
 */
import { plan } from '../../runtime/plan.ts';
import { buildFirmware, elfSize, type Core } from '../qemu.ts';

const M = 4;
const O = 4;

function rfloArena(N: number): number {
  return plan({ learner: 'rflo', inputs: M, hidden: N, outputs: O, tau: 10, lrRec: 0.001, lrOut: 0.001, update: 'step', trialLength: 1 }).totalBytes;
}

/** Builds for hidden N; returns the sizes or null when it does not fit (the link fails on SRAM overflow). */
function build(N: number, core: Core): { text: number; data: number; bss: number; arena: number } | null {
  const arena = rfloArena(N);
  try {
    return { ...elfSize(buildFirmware({ hidden: N, inputs: M, outputs: O, arenaBytes: arena, core })), arena };
  } catch (e) {
    if (/SRAM overflow|overflowed/.test((e as Error).message)) return null;
    throw e;
  }
}

const rows: { core: Core; N: number; largest: boolean; next: number; text: number; data: number; bss: number; arena: number }[] = [];
for (const core of ['m3', 'm4'] as const) {
  let lo = 32;
  let hi = 256;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (build(mid, core)) lo = mid;
    else hi = mid;
  }
  for (const N of [16, 32, lo]) rows.push({ core, N, largest: N === lo, next: hi, ...build(N, core)! });
}
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
else {
  console.log('| core | RFLO, 4 in / 4 out | arena (plan.ts) | .text | .data | .bss | flash (.text + .data) | RAM (.data + .bss) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const note = r.largest ? ` (largest that fits; N = ${r.next} needs ${rfloArena(r.next)} B of arena)` : '';
    const core = r.core === 'm3' ? 'Cortex-M3 (lm3s6965)' : 'Cortex-M4 (mps2-an386)';
    console.log(`| ${core} | N = ${r.N}${note} | ${r.arena} | ${r.text} | ${r.data} | ${r.bss} | ${r.text + r.data} | ${r.data + r.bss} |`);
  }
}
