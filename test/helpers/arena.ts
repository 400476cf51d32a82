/**
 * Arena helpers shared by the kernel equivalence tests (reference vs optimized TypeScript, wasm and C): the bytes of
 * a learner's arena, the first differing byte with its buffer name, random full-range arenas that saturate every
 * buffer, and the saturated-copy case.
 */
import type { FixedLearner } from '../../runtime/learner.ts';
import { rngNextU32 } from '../../runtime/rng.ts';

export const arenaBytes = (l: FixedLearner): Uint8Array => new Uint8Array(l.arena, l.arenaOffset, l.plan.totalBytes);

/** null when equal, else "byte i (buffer[index])". */
export function firstDiff(l: FixedLearner, a: Uint8Array, b: Uint8Array): string | null {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const buf = l.plan.buffers.find((s) => i >= s.offset && i < s.offset + s.bytes);
      const at = buf === undefined ? '?' : `${buf.name}[${Math.floor((i - buf.offset) / (buf.bytes / buf.length))}]`;
      return `byte ${i} (${at})`;
    }
  }
  return a.length === b.length ? null : 'length';
}

/**
 * Writes random full-range values (with the extremes and 0 often) into every buffer of `into`'s arena and copies the
 * same bytes into the others. float64 buffers get exact integers below 2^40 (int64_t in C); counters stay small.
 */
export function randomizeArena(into: FixedLearner, others: readonly FixedLearner[], rng: Uint32Array): void {
  const bytes = arenaBytes(into);
  const dv = new DataView(into.arena, into.arenaOffset, into.plan.totalBytes);
  const pick = (lo: number, hi: number) => {
    const r = rngNextU32(rng);
    if ((r & 15) === 0) return lo;
    if ((r & 15) === 1) return hi;
    if ((r & 15) === 2) return 0;
    return lo + (rngNextU32(rng) % (hi - lo + 1));
  };
  for (const s of into.plan.buffers) {
    for (let i = 0; i < s.length; i++) {
      const at = s.offset + i * (s.bytes / s.length);
      if (s.type === 'i16') dv.setInt16(at, pick(-32768, 32767), true);
      else if (s.type === 'i32') dv.setInt32(at, pick(-2147483648, 2147483647), true);
      else if (s.type === 'u32') dv.setUint32(at, rngNextU32(rng) & 1023, true);
      else dv.setFloat64(at, (rngNextU32(rng) % 2 ? -1 : 1) * (rngNextU32(rng) * 256 + (rngNextU32(rng) & 255)), true);
    }
  }
  dv.setFloat64(into.plan.buffers.find((b) => b.name === 'steps')!.offset, 12345, true);
  for (const o of others) arenaBytes(o).set(bytes);
}

/**
 * A golden-vector file (test/golden/generate.ts's format, read by firmware-bridge/firmware/host/golden.c) for a run
 * of `l` from its current arena: the initial snapshot, `steps` stepQ calls fed by `next(k, x, t)` (returning false
 * for an inference step), an endTrial + resetState after step k when endAfter(k), and the final snapshot.
 */
export function goldenRun(
  name: string,
  l: FixedLearner,
  steps: number,
  next: (k: number, x: Int16Array, t: Int16Array) => boolean,
  endAfter: (k: number) => boolean = () => false,
  snapshot: (l: FixedLearner) => Uint8Array,
): string {
  const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  const o = l.options;
  const x = new Int16Array(o.inputs);
  const t = new Int16Array(o.outputs);
  const y = new Int16Array(o.outputs);
  const lines = [`case ${name}`, `snapshot ${hex(snapshot(l))}`];
  for (let k = 0; k < steps; k++) {
    const learn = next(k, x, t);
    l.stepQ(x, learn ? t : null, y);
    lines.push(`s ${x.join(' ')} | ${learn ? t.join(' ') : '-'} | ${y.join(' ')}`);
    if (endAfter(k)) {
      l.endTrial();
      l.resetState();
      lines.push('e');
    }
  }
  lines.push(`final ${hex(snapshot(l))}`, 'end');
  return lines.join('\n') + '\n';
}

/**
 * For the normalised readout (NLMS): shrinks the weights feeding the hidden units and the state by random shifts, so
 * that the next step's |[h; x]|^2 spans every magnitude from eps up (the reciprocal's exponent p from its smallest to
 * its largest, the update shift from left shifts to >= 46). Returns a random shift for the caller's input values.
 */
export function shrinkArena(into: FixedLearner, others: readonly FixedLearner[], rng: Uint32Array): number {
  const dv = new DataView(into.arena, into.arenaOffset, into.plan.totalBytes);
  for (const s of into.plan.buffers) {
    const wide = s.name === 'W_in' || s.name === 'W_rec' || s.name === 'b';
    if (!wide && s.name !== 'h' && s.name !== 'h_prev') continue;
    for (let i = 0; i < s.length; i++) {
      const at = s.offset + i * (s.bytes / s.length);
      if (wide) dv.setInt32(at, dv.getInt32(at, true) >> (16 + (rngNextU32(rng) % 16)), true);
      else dv.setInt16(at, dv.getInt16(at, true) >> (rngNextU32(rng) % 16), true);
    }
  }
  for (const o of others) arenaBytes(o).set(arenaBytes(into));
  return rngNextU32(rng) % 16;
}
