/** Human-readable output of the `neurostream` command: progress lines on stderr, aligned tables, number format. */
import type { LearningLoop, LiveDivergence } from '../firmware-bridge/learning-loop.ts';

/** A number for a table: 4 significant digits, exponent form when very small or large. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(2);
  return v.toPrecision(4);
}

/** Left-aligned first column, right-aligned others, two spaces apart. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd())
    .join('\n');
}

export interface Progress {
  /** Report `done` of `total` units, and `detail` after them; cheap to call often (it prints at most every interval). */
  update(done: number, total: number, detail?: string): void;
  /** Clears the TTY line (or prints nothing) at the end. */
  done(): void;
}

/**
 * A progress line on stderr: rewritten in place at most 5 times a second on a TTY; elsewhere (logs, CI) one line
 * every `logEveryMs` (default 5 s), so long runs show life without flooding logs. Silent when `enabled` is false.
 */
export function createProgress(label: string, opts: { enabled?: boolean; logEveryMs?: number; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? true;
  const tty = stream.isTTY === true;
  const every = tty ? 200 : (opts.logEveryMs ?? 5000);
  const start = Date.now();
  let last = start;
  let shown = false;
  return {
    update(done: number, total: number, detail?: string): void {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < every && done < total) return;
      if (!tty && done >= total) return;
      last = now;
      const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
      const line = `${label}: ${done}/${total} (${pct}%)${detail ? `, ${detail}` : ''}, ${((now - start) / 1000).toFixed(1)} s`;
      if (tty) {
        stream.write(`\r${line}\x1b[K`);
        shown = true;
      } else {
        stream.write(line + '\n');
      }
    },
    done(): void {
      if (tty && shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** NaN ranks last. */
function rank(v: number): number {
  return Number.isNaN(v) ? Infinity : v;
}

/** Who has the lowest running NMSE: the learner (by `learnerName`), persistence or a yardstick; '-' before data. */
export function leader(loop: LearningLoop, learnerName: string): string {
  let best = learnerName;
  let v = rank(loop.nmse.value);
  if (rank(loop.persistenceNmse.value) < v) {
    best = 'persistence';
    v = rank(loop.persistenceNmse.value);
  }
  loop.yardstickNmse.forEach((n, k) => {
    if (rank(n.value) < v) {
      best = loop.yardsticks[k].name;
      v = rank(n.value);
    }
  });
  return v === Infinity ? '-' : best;
}

/** "persistence 0.0123, NLMS-AR p8 0.0150; leading: RFLO" for a progress line. */
export function yardstickText(loop: LearningLoop, learnerName: string): string {
  const parts = [`persistence ${fmt(loop.persistenceNmse.value)}`, ...loop.yardstickNmse.map((n, k) => `${loop.yardsticks[k].name} ${fmt(n.value)}`)];
  return `${parts.join(', ')}; leading: ${leader(loop, learnerName)}`;
}

/** One stderr line per repaired divergence: what happened, where, what was restored, the new rates. */
export function divergenceLine(command: string, learnerName: string, d: LiveDivergence): string {
  const rate = (from: number, to: number): string => (from === 0 ? '0' : to === 0 ? `0 (${from} / 2 is below the smallest step the fixed-point plan represents)` : String(to));
  return (
    `${command}: ${learnerName} diverged (${d.kind}) at sample ${d.at}: ${d.detail}; restored its last good state ` +
    `(${d.restoredFrom === 0 ? 'the initial one' : `from sample ${d.restoredFrom}`}) and halved the learning rates: ` +
    `lr_rec ${rate(d.fromLrRec, d.lrRec)}, lr_out ${rate(d.fromLrOut, d.lrOut)} (divergence ${d.count}); learning goes on\n`
  );
}

/** A divergence as the summaries' JSON carries it. */
export function divergenceRecord(d: LiveDivergence): { kind: string; at: number; restored_from: number; detail: string; lr_rec: number; lr_out: number } {
  return { kind: d.kind, at: d.at, restored_from: d.restoredFrom, detail: d.detail, lr_rec: d.lrRec, lr_out: d.lrOut };
}
