/**
 * Replay of a recorded sensor log (CSV with a header row). Input = the named columns of row r, target = column
 * `target` of row r + horizon. The last `horizon` rows have no target and are not samples.
 *
 * Reading (csv-parse, RFC 4180): quoted fields with the separator or line breaks inside, "" escapes, CR, LF or CRLF
 * line ends, a UTF-8 byte-order mark. The separator is detected (',', ';', tab or '|': the one that splits the first
 * lines into the same number of columns, most columns first) or given (`delimiter`); the decimal mark is '.' or ','
 * (`decimal`, detected when the separator is not ','). A units row right under the header (no number in any used
 * column, numbers below it) is recognised and left out. A column name used by `columns` or `target` that appears more
 * than once in the header is refused as ambiguous.
 *
 * Cells: a number (digits, optional sign, decimal mark and exponent; nothing else, so "0x10" and "1,5" under '.' are
 * not numbers), or missing: empty, NA, N/A, NaN, null, or one of the `missing` markers (compared as numbers when they
 * are numbers: -9999 also matches -9999.0). A sample with a missing or non-numeric cell is skipped and counted, by
 * reason, never fed. When no sample is usable the error names the column, the line and what its cells looked like.
 *
 * Scaling: one policy for every stream, runtime/scaler.ts's StreamScaler in 'cumulative' mode: each input column is
 * z-scored with the mean and standard deviation of its accepted values so far (never from the future), and its outlier
 * guard rejects a value more than `outlier` (default 8) standard deviations from that mean before it enters the
 * statistics: one absurd cell (a 1e200 glitch) costs one sample, counted, not the scale of every later row. The target
 * column has its own scaler, fed with its values up to row r; a target more than `outlier` standard deviations away
 * from them is not learned from (the sample is skipped, counted). `scale`/`offset` map the network's units back to the
 * sensor's units, where errors are scored. Persistence baseline: the last accepted value of the target column at or
 * before row r.
 *
 * Everything is read, checked and scaled once at creation (plan time); `next` copies and allocates nothing.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Task } from './task.ts';
import { InputError } from '../modelio.ts';
import { StreamScaler } from '../../runtime/scaler.ts';

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
  /** Field separator: ',', ';', '\t' (or 'tab'), '|'; default: detected from the first lines. */
  delimiter?: string;
  /** Decimal mark '.' or ','; default: detected ('.' when the separator is ','). */
  decimal?: string;
  /** Extra markers of a missing reading, e.g. ['-9999', 'n/a'] (NA, N/A, NaN, null and empty always are). */
  missing?: string[];
  /** Outlier guard in standard deviations (default 8; Infinity: off). */
  outlier?: number;
}

const DELIMITERS = [',', ';', '\t', '|'] as const;
const DEFAULT_MISSING = ['', 'na', 'n/a', 'nan', 'null', 'none', '#n/a'];
const NUMBER_DOT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NUMBER_COMMA = /^[+-]?(\d+,?\d*|,\d+)([eE][+-]?\d+)?$/;

const show = (d: string): string => (d === '\t' ? 'tab' : `'${d}'`);

/** What a cell looked like, for messages: quoted, shortened, with invisible characters spelled out. */
function looks(s: string): string {
  const t = s.length > 24 ? s.slice(0, 24) + '...' : s;
  return JSON.stringify(t);
}

export function parseDelimiter(v: string): string {
  const d = v === 'tab' || v === '\\t' ? '\t' : v === 'semicolon' ? ';' : v === 'comma' ? ',' : v === 'pipe' ? '|' : v;
  if (!(DELIMITERS as readonly string[]).includes(d)) throw new InputError(`csv: --delimiter must be one of , ; tab | (got ${looks(v)})`);
  return d;
}

function readRows(text: string, delimiter: string, file: string): { rows: string[][]; lines: number[] } {
  try {
    const recs = parse(text, {
      delimiter,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    return { rows: recs.map((r) => r.record), lines: recs.map((r) => r.info.lines) };
  } catch (err) {
    throw new InputError(`csv: ${file} is not valid CSV with separator ${show(delimiter)}: ${(err as Error).message}; check the file (an unclosed quote?) or --delimiter`);
  }
}

/** The separator that splits the first lines into the same number (> 1) of columns, most columns first; ',' if none. */
function detectDelimiter(text: string): string {
  const head = text.split(/\r\n|\n|\r/).filter((l) => l.trim() !== '').slice(0, 6).join('\n');
  let best = ',';
  let bestCols = 1;
  for (const d of DELIMITERS) {
    let rows: string[][];
    try {
      rows = parse(head, { delimiter: d, bom: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true }) as string[][];
    } catch {
      continue;
    }
    if (rows.length === 0) continue;
    const n = rows[0].length;
    if (n > bestCols && rows.every((r) => r.length === n)) {
      best = d;
      bestCols = n;
    }
  }
  return best;
}

interface ColumnReport {
  name: string;
  numeric: number;
  missing: number;
  nonNumeric: number;
  firstBad: { line: number; text: string } | null;
  outliers: number;
  firstOutlier: { line: number; value: number } | null;
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
  const delimiter = o.delimiter !== undefined ? parseDelimiter(o.delimiter) : detectDelimiter(text);
  const { rows, lines } = readRows(text, delimiter, o.file);
  if (rows.length < 2) throw new InputError(`csv: ${o.file} must have a header row and at least one data row, got ${rows.length} non-empty line(s)`);
  const header = rows[0].map((h) => h.trim());
  const indexOf = (name: string, flag: string): number => {
    const at: number[] = [];
    header.forEach((h, i) => h === name && at.push(i));
    if (at.length > 1) {
      throw new InputError(
        `csv: ${flag} names column "${name}", which appears ${at.length} times in the header of ${o.file} (columns ${at.map((i) => i + 1).join(' and ')}); ` +
          'the name is ambiguous: rename the columns in the file so each name is used once',
      );
    }
    if (at.length === 0) {
      const hint = header.length === 1 && /[;,\t|]/.test(header[0]) ? `; the header was read as one column with separator ${show(delimiter)}: try --delimiter` : '';
      throw new InputError(`csv: ${flag} names unknown column "${name}"; available columns: ${header.join(', ')}${hint}`);
    }
    return at[0];
  };
  const seen = new Set<string>();
  for (const c of o.columns) {
    if (seen.has(c)) throw new InputError(`csv: --columns lists "${c}" twice; give each input column once`);
    seen.add(c);
  }
  const inCols = o.columns.map((c) => indexOf(c, '--columns'));
  const tCol = indexOf(o.target, '--target');
  const used = [...inCols, tCol];

  // Missing markers: strings compared case-insensitively, numeric markers compared as numbers.
  const missingText = new Set(DEFAULT_MISSING);
  const missingNum: number[] = [];
  for (const m of o.missing ?? []) {
    const t = m.trim();
    if (NUMBER_DOT.test(t)) missingNum.push(Number(t));
    else missingText.add(t.toLowerCase());
  }

  // Decimal mark: given, or ',' when the separator is not ',' and the used cells have decimal commas but no points.
  let decimal = o.decimal;
  if (decimal !== undefined && decimal !== '.' && decimal !== ',') throw new InputError(`csv: --decimal must be . or , (got ${looks(decimal)})`);
  if (decimal === ',' && delimiter === ',') throw new InputError("csv: --decimal , needs another separator than ','; give --delimiter ';' (or tab)");
  if (decimal === undefined) {
    decimal = '.';
    if (delimiter !== ',') {
      let commas = 0;
      let points = 0;
      for (let r = 1; r < rows.length && r < 2000; r++) {
        for (const c of used) {
          const s = rows[r][c] ?? '';
          if (/^[+-]?\d+,\d+$/.test(s)) commas++;
          else if (/^[+-]?\d*\.\d+$/.test(s)) points++;
        }
      }
      if (commas > 0 && points === 0) decimal = ',';
    }
  }
  const numberRe = decimal === ',' ? NUMBER_COMMA : NUMBER_DOT;
  /** A cell's value; NaN for missing (marker), undefined for non-numeric. */
  const cell = (s: string | undefined): number | undefined => {
    if (s === undefined) return NaN;
    const t = s.trim();
    if (missingText.has(t.toLowerCase())) return NaN;
    if (!numberRe.test(t)) return undefined;
    const v = Number(decimal === ',' ? t.replace(',', '.') : t);
    if (!Number.isFinite(v)) return undefined;
    for (const m of missingNum) if (v === m) return NaN;
    return v;
  };

  // A units row: no number in any used column of the first data row, numbers in the next one.
  let first = 1;
  let unitsRow: string[] | null = null;
  if (rows.length > 2) {
    const none = used.every((c) => typeof cell(rows[1][c]) !== 'number' || Number.isNaN(cell(rows[1][c])));
    const nonEmpty = used.some((c) => (rows[1][c] ?? '').trim() !== '' && cell(rows[1][c]) === undefined);
    const next = used.some((c) => {
      const v = cell(rows[2][c]);
      return v !== undefined && !Number.isNaN(v);
    });
    if (none && nonEmpty && next) {
      unitsRow = used.map((c) => rows[1][c] ?? '');
      first = 2;
    }
  }

  const R = rows.length - first;
  const M = inCols.length;
  const report: ColumnReport[] = used.map((c) => ({ name: header[c], numeric: 0, missing: 0, nonNumeric: 0, firstBad: null, outliers: 0, firstOutlier: null }));
  // Column-major copies of the used columns, NaN where a cell is unusable.
  const xs = new Float64Array(R * M);
  const ts = new Float64Array(R);
  const lineOf = new Int32Array(R);
  for (let r = 0; r < R; r++) {
    const cells = rows[r + first];
    lineOf[r] = lines[r + first];
    for (let j = 0; j <= M; j++) {
      const v = cell(cells[used[j]]);
      const rep = report[j];
      let value = NaN;
      if (v === undefined) {
        rep.nonNumeric++;
        if (!rep.firstBad) rep.firstBad = { line: lines[r + first], text: cells[used[j]] };
      } else if (Number.isNaN(v)) rep.missing++;
      else {
        rep.numeric++;
        value = v;
      }
      if (j < M) xs[r * M + j] = value;
      else ts[r] = value;
    }
  }

  // One pass of the stream policy, at plan time: which samples are fed, and what they are.
  const rowsWithTarget = Math.max(0, R - K);
  const guard = o.outlier ?? 8;
  // physical units, any magnitude: no declared raw range, the guard alone judges
  const policy = { mode: 'cumulative', outlier: guard, clip: 7.99, rawMin: -Infinity, rawMax: Infinity } as const;
  const inScaler = new StreamScaler({ channels: M, ...policy });
  const tScaler = new StreamScaler({ channels: 1, ...policy });
  const sx = new Float64Array(M * rowsWithTarget);
  const st = new Float64Array(rowsWithTarget);
  const sScale = new Float64Array(rowsWithTarget);
  const sOffset = new Float64Array(rowsWithTarget);
  const sPers = new Float64Array(rowsWithTarget);
  const why = { inputMissing: 0, targetMissing: 0, inputOutlier: 0, targetOutlier: 0 };
  const raw = new Float64Array(M);
  const z = new Float64Array(M);
  const one = new Float64Array(1);
  const before = new Uint32Array(M);
  const tz = new Float64Array(1);
  let lastT = NaN;
  let nextTRow = 0;
  let n = 0;
  let tMin = Infinity;
  let tMax = -Infinity;
  const inMin = new Float64Array(M).fill(Infinity);
  const inMax = new Float64Array(M).fill(-Infinity);
  for (let r = 0; r < rowsWithTarget; r++) {
    // the target column up to row r is known at time r (unlike row r + K)
    for (; nextTRow <= r; nextTRow++) {
      const v = ts[nextTRow];
      if (Number.isNaN(v)) continue;
      one[0] = v;
      const before = tScaler.outliers;
      tScaler.scale(one, tz);
      if (tScaler.outliers !== before) {
        report[M].outliers++;
        report[M].firstOutlier ??= { line: lineOf[nextTRow], value: v };
      } else lastT = v;
    }
    let ok = true;
    for (let j = 0; j < M; j++) {
      raw[j] = xs[r * M + j];
      if (Number.isNaN(raw[j])) ok = false;
    }
    if (!ok) {
      why.inputMissing++;
      continue;
    }
    const target = ts[r + K];
    if (Number.isNaN(target)) {
      why.targetMissing++;
      continue;
    }
    if (tScaler.wouldRejectOutlier(0, target)) {
      why.targetOutlier++;
      continue;
    }
    before.set(inScaler.outliersPerChannel);
    if (!inScaler.scale(raw, z)) {
      why.inputOutlier++;
      for (let j = 0; j < M; j++) {
        if (inScaler.outliersPerChannel[j] !== before[j]) {
          report[j].outliers++;
          report[j].firstOutlier ??= { line: lineOf[r], value: raw[j] };
        }
      }
      continue;
    }
    const tMean = tScaler.mean[0];
    const tSd = tScaler.variance[0] > 1e-24 ? Math.sqrt(tScaler.variance[0]) : 1;
    const useScale = normalize && lastT === lastT ? tSd : 1;
    const useOffset = normalize && lastT === lastT ? tMean : 0;
    for (let j = 0; j < M; j++) {
      sx[n * M + j] = normalize ? z[j] : raw[j];
      if (raw[j] < inMin[j]) inMin[j] = raw[j];
      if (raw[j] > inMax[j]) inMax[j] = raw[j];
    }
    st[n] = (target - useOffset) / useScale;
    sScale[n] = useScale;
    sOffset[n] = useOffset;
    sPers[n] = Number.isNaN(lastT) ? 0 : (lastT - useOffset) / useScale;
    if (target < tMin) tMin = target;
    if (target > tMax) tMax = target;
    n++;
  }
  const skipped = rowsWithTarget - n;
  if (n === 0) throw new InputError(nothingUsable(o, report, M, why, rowsWithTarget, K, delimiter, decimal));

  const notes: string[] = [];
  if (unitsRow) notes.push(`units row (line ${lines[1]}) left out: ${unitsRow.join(', ')}`);
  for (let j = 0; j <= M; j++) {
    const rep = report[j];
    if (j === M && inCols.includes(tCol)) {
      // the target column is also an input: one report, with its outliers as a target added
      const twin = report[inCols.indexOf(tCol)];
      if (rep.outliers > 0 && rep.firstOutlier) {
        notes.push(`column ${rep.name} (as target): ${rep.outliers} outlier(s) rejected, first at line ${rep.firstOutlier.line}: ${rep.firstOutlier.value}`);
      }
      if (twin) continue;
    }
    if (rep.nonNumeric > 0 && rep.firstBad) notes.push(`column ${rep.name}: ${rep.nonNumeric} non-numeric cell(s), first at line ${rep.firstBad.line}: ${looks(rep.firstBad.text)}`);
    if (rep.missing > 0) notes.push(`column ${rep.name}: ${rep.missing} missing reading(s)`);
    if (rep.outliers > 0 && rep.firstOutlier) {
      notes.push(`column ${rep.name}: ${rep.outliers} outlier(s) rejected (more than ${guard} standard deviations from the values before), first at line ${rep.firstOutlier.line}: ${rep.firstOutlier.value}`);
    }
  }
  for (let j = 0; j < M; j++) {
    if (inMin[j] === inMax[j]) notes.push(`input column ${o.columns[j]} is constant (every value fed is ${inMin[j]}): it carries no information; check the sensor (a stuck pin?)`);
  }
  const constantTarget = tMin === tMax;
  if (constantTarget) notes.push(`target column ${o.target} is constant (every target is ${tMin}): the NMSE (error / variance of the target) is undefined`);
  const skippedWhy = `${why.inputMissing} with a missing or non-numeric input, ${why.targetMissing} with a missing or non-numeric target, ` +
    `${why.inputOutlier} with an outlier input, ${why.targetOutlier} with an outlier target`;

  let i = 0;
  let cur = -1;
  const scale = new Float64Array(1).fill(1);
  const offset = new Float64Array(1);

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
    notes,
    rejected: why.inputOutlier + why.targetOutlier,
    next(x: Float64Array, target: Float64Array): boolean {
      if (i >= n) return false;
      cur = i++;
      for (let j = 0; j < M; j++) x[j] = sx[cur * M + j];
      target[0] = st[cur];
      scale[0] = sScale[cur];
      offset[0] = sOffset[cur];
      return true;
    },
    startTrial(): void {},
    reset(): void {
      i = 0;
      cur = -1;
      scale[0] = 1;
      offset[0] = 0;
    },
    persistence(out: Float64Array): Float64Array {
      // Before any target-column value was accepted, persistence predicts the running mean (0 normalised).
      out[0] = cur >= 0 ? sPers[cur] : 0;
      return out;
    },
    describe(): string {
      return (
        `csv: ${o.file}, inputs ${o.columns.join(',')} -> ${o.target} ${K} row(s) ahead; ${n} samples, ${skipped} skipped (${skippedWhy})` +
        `; separator ${show(delimiter)}, decimal '${decimal}'` +
        (normalize ? ', running z-score' : ', raw values')
      );
    },
  };
}

/** Why no sample could be fed: which column, which line, what the cells looked like, and what to try. */
function nothingUsable(
  o: CsvOptions,
  report: ColumnReport[],
  M: number,
  why: { inputMissing: number; targetMissing: number; inputOutlier: number; targetOutlier: number },
  rowsWithTarget: number,
  K: number,
  delimiter: string,
  decimal: string,
): string {
  if (rowsWithTarget === 0) return `csv: ${o.file} has no usable sample: it needs at least ${K + 1} data rows for --horizon ${K}`;
  const parts: string[] = [];
  for (let j = 0; j <= M; j++) {
    const rep = report[j];
    if (rep.numeric > 0 && rep.numeric >= rep.nonNumeric) continue;
    let s = `column ${rep.name} (${j < M ? '--columns' : '--target'}) has ${rep.numeric} numeric, ${rep.missing} missing and ${rep.nonNumeric} non-numeric cell(s)`;
    if (rep.firstBad) {
      s += `; line ${rep.firstBad.line} has ${looks(rep.firstBad.text)}`;
      const t = rep.firstBad.text.trim();
      if (decimal === '.' && /^[+-]?\d+,\d+$/.test(t)) s += ' (a decimal comma? try --decimal , with --delimiter \';\')';
      else if (/[;\t|]/.test(t)) s += ` (another separator than ${show(delimiter)}? try --delimiter)`;
      else if (decimal === ',' && /^[+-]?\d*\.\d+$/.test(t)) s += " (a decimal point: try --decimal .)";
    }
    if (rep.numeric === 0 && rep.missing > 0 && rep.nonNumeric === 0) s += ' (every cell is empty or a missing marker)';
    parts.push(s);
  }
  if (parts.length === 0) {
    parts.push(
      `every row was skipped: ${why.inputMissing} with a missing input, ${why.targetMissing} with a missing target (row r + ${K}), ` +
        `${why.inputOutlier + why.targetOutlier} outliers`,
    );
  }
  return `csv: ${o.file} has no usable sample: ${parts.join('; ')}`;
}
