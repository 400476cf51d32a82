/**
 * Replay of a recorded sensor log (CSV with a header row). Input = the named columns of row r, target = column
 * `target` of row r + horizon. A sample whose cells (inputs of row r, target of row r + horizon) are empty,
 * non-numeric or non-finite is skipped and counted, never fed. The last `horizon` rows have no target and are
 * not samples.
 *
 * Normalisation (default on): each column is z-scored with running statistics (Welford) over the rows seen so
 * far, so the network never sees values from the future; the target is z-scored with the statistics of its
 * column up to row r (not r + horizon). `scale`/`offset` map the network's units back to the sensor's units,
 * where errors are scored. Persistence baseline: the last finite value of the target column at or before row r.
 *
 * The file is read and parsed once at creation (plan time); `next` allocates nothing.
 */
import { readFileSync } from 'node:fs';
import type { Task } from './task.ts';
import { InputError } from '../modelio.ts';

export interface CsvOptions {
  file: string;
  /** Input columns by header name (may be empty: a target-only autonomous task is then meaningless, refused). */
  columns: string[];
  /** Column to predict. */
  target: string;
  /** Steps ahead (default 1). */
  horizon?: number;
  /** Running z-score of inputs and target (default true). */
  normalize?: boolean;
}

function splitLine(line: string, sep: string): string[] {
  const cells = line.split(sep);
  for (let i = 0; i < cells.length; i++) {
    let c = cells[i].trim();
    if (c.length >= 2 && c.startsWith('"') && c.endsWith('"')) c = c.slice(1, -1).trim();
    cells[i] = c;
  }
  return cells;
}

/** A cell's value, or NaN when it is empty, non-numeric or non-finite. */
function cellValue(s: string | undefined): number {
  if (s === undefined || s === '') return NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

export function createCsvTask(o: CsvOptions): Task {
  const K = o.horizon ?? 1;
  const normalize = o.normalize ?? true;
  if (!Number.isInteger(K) || K < 1) throw new InputError(`csv: --horizon must be an integer >= 1 (got ${K})`);
  if (o.columns.length === 0) throw new InputError('csv: --columns must name at least one input column, e.g. --columns temperature,humidity');
  let text: string;
  try {
    text = readFileSync(o.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`csv: cannot read ${o.file} (${code === 'ENOENT' ? 'no such file' : (err as Error).message}); check --file`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new InputError(`csv: ${o.file} must have a header row and at least one data row, got ${lines.length} non-empty line(s)`);
  const sep = lines[0].includes(',') ? ',' : lines[0].includes(';') ? ';' : lines[0].includes('\t') ? '\t' : ',';
  const header = splitLine(lines[0], sep);
  const indexOf = (name: string, flag: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new InputError(`csv: ${flag} names unknown column "${name}"; available columns: ${header.join(', ')}`);
    return i;
  };
  const inCols = o.columns.map((c) => indexOf(c, '--columns'));
  const tCol = indexOf(o.target, '--target');
  const R = lines.length - 1;
  const M = inCols.length;
  // Column-major copies of the used columns, NaN where a cell is unusable.
  const xs = new Float64Array(R * M);
  const ts = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const cells = splitLine(lines[r + 1], sep);
    for (let j = 0; j < M; j++) xs[r * M + j] = cellValue(cells[inCols[j]]);
    ts[r] = cellValue(cells[tCol]);
  }
  // Valid samples: row r whose inputs and target (row r + K) are all finite.
  const rowsWithTarget = Math.max(0, R - K);
  const valid = new Int32Array(rowsWithTarget);
  let n = 0;
  for (let r = 0; r < rowsWithTarget; r++) {
    let ok = Number.isFinite(ts[r + K]);
    for (let j = 0; ok && j < M; j++) ok = Number.isFinite(xs[r * M + j]);
    if (ok) valid[n++] = r;
  }
  if (n === 0) throw new InputError(`csv: ${o.file} has no usable sample (every row has an empty, non-numeric or non-finite cell in the used columns, or fewer than ${K + 1} rows)`);
  const skipped = rowsWithTarget - n;

  // Running statistics (Welford) of the input columns and the target column; a row is folded in once.
  const mean = new Float64Array(M);
  const m2 = new Float64Array(M);
  let cnt = 0;
  // Target-column statistics [mean, M2, last finite value at or before the current row] in a typed array: doubles
  // held in closure variables would be boxed into a fresh heap number on every write.
  const ts3 = new Float64Array(3);
  const T_MEAN = 0;
  const T_M2 = 1;
  const T_LAST = 2;
  ts3[T_LAST] = NaN;
  let tCnt = 0;
  let nextTRow = 0; // target-column rows [0, nextTRow) are folded into the statistics
  let i = 0; // next valid sample
  let curRow = -1;
  const scale = new Float64Array(1).fill(1);
  const offset = new Float64Array(1);

  function rewind(): void {
    mean.fill(0);
    m2.fill(0);
    cnt = 0;
    ts3[T_MEAN] = 0;
    ts3[T_M2] = 0;
    ts3[T_LAST] = NaN;
    tCnt = 0;
    nextTRow = 0;
    i = 0;
    curRow = -1;
    scale[0] = 1;
    offset[0] = 0;
  }

  const std = (m2v: number, c: number): number => {
    const s = c > 1 ? Math.sqrt(m2v / (c - 1)) : 0;
    return s > 1e-12 ? s : 1;
  };

  return {
    name: 'csv',
    inputs: M,
    outputs: 1,
    trialLength: null,
    length: n,
    scale,
    offset,
    skipped,
    events: [],
    next(x: Float64Array, target: Float64Array): boolean {
      if (i >= n) return false;
      const r = valid[i++];
      curRow = r;
      cnt++;
      for (let j = 0; j < M; j++) {
        const v = xs[r * M + j];
        const d = v - mean[j];
        mean[j] += d / cnt;
        m2[j] += d * (v - mean[j]);
        x[j] = normalize ? (v - mean[j]) / std(m2[j], cnt) : v;
      }
      // Fold in the target column up to row r: known at time r, unlike row r + K.
      for (; nextTRow <= r; nextTRow++) {
        const v = ts[nextTRow];
        if (!Number.isFinite(v)) continue;
        ts3[T_LAST] = v;
        tCnt++;
        const d = v - ts3[T_MEAN];
        ts3[T_MEAN] += d / tCnt;
        ts3[T_M2] += d * (v - ts3[T_MEAN]);
      }
      if (normalize && tCnt > 0) {
        scale[0] = std(ts3[T_M2], tCnt);
        offset[0] = ts3[T_MEAN];
      }
      target[0] = (ts[r + K] - offset[0]) / scale[0];
      return true;
    },
    startTrial(): void {},
    reset(): void {
      rewind();
    },
    persistence(out: Float64Array): Float64Array {
      // Before any finite target-column value was seen, persistence predicts the running mean (0 normalised).
      const last = ts3[T_LAST];
      out[0] = Number.isFinite(last) && curRow >= 0 ? (last - offset[0]) / scale[0] : 0;
      return out;
    },
    describe(): string {
      return `csv: ${o.file}, inputs ${o.columns.join(',')} -> ${o.target} ${K} row(s) ahead; ${n} samples, ${skipped} skipped` +
        (normalize ? ', running z-score' : ', raw values');
    },
  };
}
