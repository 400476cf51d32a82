/**
 * Reading and checking the JSON interchange files of the `neurostream` command (model.json, data.json) and
 * writing weights and gradients back as nested arrays. Shared by the CLI, the fixed-point engine and snapshots.
 *
 *   model.json: {"tau": 10, "W_in": N x M, "W_rec": N x N, "b": N, "W_out": O x N, "h0": N, "B": N x O}
 *               (B is optional unless the learner is RFLO with random feedback; M may be 0: W_in is N empty rows)
 *   data.json:  {"x": T x M, "target": T x O}; x[t-1] and target[t-1] belong to step t (x may be left out when M = 0).
 *
 * Every error is an InputError whose message names the file, the field, the expected shape and what was found.
 * Plan-time code: allocates freely. At the end, the commands' output paths (--out, --plot, --snapshot): checked before
 * any work and created without a recursive mkdir.
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Gradient, ModelWeights } from '../runtime/types.ts';

/** Bad usage or bad input (a file, a flag value): the CLI prints the message and exits with code 2. */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * A runtime failure whose message says everything the user needs (a board that never answered, one that went away,
 * --duration ending before a sample): the CLI prints it and exits 1, without the stack-trace hint that an unexpected
 * error gets.
 */
export class Failure extends Error {
  override name = 'Failure';
}

/**
 * The user stopped a command (Ctrl-C, SIGTERM) before it had anything to report: the CLI prints the message alone and
 * exits with the shell's code for that signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
 */
export class Interrupted extends Error {
  override name = 'Interrupted';
  readonly exitCode: number;
  constructor(message: string, signal: unknown) {
    super(message);
    this.exitCode = signalExitCode(String(signal));
  }
}

/** The shell's exit code for a command ended by `signal` (128 + its number; SIGINT's 130 for anything else). */
export function signalExitCode(signal: string): number {
  return signal === 'SIGTERM' ? 143 : signal === 'SIGHUP' ? 129 : 130;
}

/**
 * What JSON.parse said about `text`, with where as line and column (1-based) when it gave a position (V8: "... in JSON
 * at position N", newer versions add the line themselves) or the input ended early.
 */
export function jsonSyntaxError(text: string, err: unknown): string {
  const msg = (err as Error).message;
  const where = (pos: number): string => {
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    return `line ${line}, column ${pos - before.lastIndexOf('\n')}`;
  };
  const atEnd = (pos: number): string => (pos >= text.trimEnd().length ? ', where the file ends' : '');
  // newer V8 (Node 22+) gives the line and column itself
  const lc = / in JSON at position (\d+) \((line \d+) (column \d+)\)/.exec(msg);
  if (lc) return msg.replace(lc[0], ` at ${lc[2]}, ${lc[3]}`) + atEnd(Number(lc[1]));
  const at = / in JSON at position (\d+)/.exec(msg);
  if (at) return msg.replace(at[0], ` at ${where(Number(at[1]))}`) + atEnd(Number(at[1]));
  if (/end of (JSON|data)/i.test(msg)) return `${text.trim() === '' ? 'the file is empty' : `it ends early, at ${where(text.trimEnd().length)}`} (${msg})`;
  return msg;
}

/** Reads and JSON-parses a file; missing files and bad JSON become InputErrors that name the file. */
export function readJsonFile(path: string, label = path): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String((err as Error).message);
    throw new InputError(`${label}: cannot read ${path} (${why}); check the path`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`${label}: ${path} is not valid JSON: ${jsonSyntaxError(text, err)}; expected a JSON object, fix the file there`);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? v.slice(0, 20) + '...' : v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(file: string, where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${file}: ${where} must be a finite number, got ${describe(v)}`);
  return v;
}

/** Shape "R x C" of a nested array, or a message saying why it is not a matrix. */
function matrixShape(v: unknown): [number, number] | string {
  if (!Array.isArray(v)) return describe(v);
  if (v.length === 0) return '0 rows';
  let cols = -1;
  for (let i = 0; i < v.length; i++) {
    const row = v[i] as unknown;
    if (!Array.isArray(row)) return `row ${i} is ${describe(row)}`;
    if (cols < 0) cols = row.length;
    else if (row.length !== cols) return `ragged rows (row 0 has ${cols} entries, row ${i} has ${row.length})`;
  }
  return [v.length, cols];
}

/**
 * Checks that field `name` is a rows x cols nested array of finite numbers and returns it row-major.
 * `shape` is the symbolic shape for the message, e.g. "N x N".
 */
export function readMatrix(file: string, name: string, v: unknown, rows: number, cols: number, shape: string): Float64Array {
  const s = matrixShape(v);
  // An N x 0 matrix may also be written as N empty rows; 0 x C as [].
  const ok = typeof s !== 'string' ? s[0] === rows && s[1] === cols : rows === 0 && Array.isArray(v) && v.length === 0;
  if (!ok) {
    const got = typeof s === 'string' ? s : `${s[0]} x ${s[1]}`;
    throw new InputError(`${file}: ${name} must be ${rows} x ${cols} (${shape}), got ${got}`);
  }
  const out = new Float64Array(rows * cols);
  const m = v as unknown[][];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = num(file, `${name}[${i}][${j}]`, m[i][j]);
  return out;
}

export function readVector(file: string, name: string, v: unknown, n: number, shape: string): Float64Array {
  if (!Array.isArray(v) || v.length !== n) {
    throw new InputError(`${file}: ${name} must be a vector of length ${n} (${shape}), got ${describe(v)}`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = num(file, `${name}[${i}]`, v[i]);
  return out;
}

export interface ParseModelOptions {
  /** Name used in messages (default "model.json"). */
  label?: string;
  /** Demand B (RFLO with random feedback). Without it a missing B becomes zeros. */
  requireB?: boolean;
  /** Why B is required, appended to the message (e.g. "--learner rflo uses B as its feedback matrix"). */
  requireBReason?: string;
}

/**
 * Parses model.json. N comes from W_rec's rows, M from W_in's columns (0 when W_in is N empty rows),
 * O from W_out's rows; every other field is checked against them.
 */
export function parseModel(json: unknown, opts: ParseModelOptions = {}): ModelWeights {
  const f = opts.label ?? 'model.json';
  if (!isObject(json)) throw new InputError(`${f}: must be a JSON object with tau, W_in, W_rec, b, W_out, h0 (and B for rflo), got ${describe(json)}`);
  for (const k of ['tau', 'W_in', 'W_rec', 'b', 'W_out', 'h0']) {
    if (!(k in json)) throw new InputError(`${f}: missing field "${k}"; expected {"tau", "W_in", "W_rec", "b", "W_out", "h0", "B"}`);
  }
  const tau = num(f, 'tau', json.tau);
  if (tau < 1) throw new InputError(`${f}: tau must be >= 1 (got ${tau})`);
  const recShape = matrixShape(json.W_rec);
  if (typeof recShape === 'string') throw new InputError(`${f}: W_rec must be an N x N matrix (N hidden units), got ${recShape}`);
  const N = recShape[0];
  const inShape = matrixShape(json.W_in);
  if (typeof inShape === 'string') throw new InputError(`${f}: W_in must be ${N} x M (N x M, one row per hidden unit, M inputs), got ${inShape}`);
  const M = inShape[1];
  const outShape = matrixShape(json.W_out);
  if (typeof outShape === 'string') throw new InputError(`${f}: W_out must be O x ${N} (O x N, one row per output), got ${outShape}`);
  const O = outShape[0];
  if (O < 1) throw new InputError(`${f}: W_out must have at least one row (one per output)`);
  const W_rec = readMatrix(f, 'W_rec', json.W_rec, N, N, 'N x N');
  const W_in = readMatrix(f, 'W_in', json.W_in, N, M, 'N x M');
  const W_out = readMatrix(f, 'W_out', json.W_out, O, N, 'O x N');
  const b = readVector(f, 'b', json.b, N, 'N');
  const h0 = readVector(f, 'h0', json.h0, N, 'N');
  let B: Float64Array;
  if (json.B === undefined || json.B === null) {
    if (opts.requireB) {
      const why = opts.requireBReason ? ` (${opts.requireBReason})` : '';
      throw new InputError(`${f}: missing field "B"${why}; add B, an N x O = ${N} x ${O} matrix, or use --feedback transpose`);
    }
    B = new Float64Array(N * O);
  } else {
    B = readMatrix(f, 'B', json.B, N, O, 'N x O');
  }
  return { tau, inputs: M, hidden: N, outputs: O, W_in, W_rec, b, W_out, h0, B };
}

export interface Sequence {
  /** x[t-1] is the input of step t (length M each). */
  x: Float64Array[];
  /** target[t-1] is the target of step t (length O each). */
  target: Float64Array[];
}

/** Parses data.json against a model's input and output counts. */
export function parseData(json: unknown, shape: { inputs: number; outputs: number }, label = 'data.json'): Sequence {
  const f = label;
  const { inputs: M, outputs: O } = shape;
  if (!isObject(json)) throw new InputError(`${f}: must be a JSON object {"x": T x M, "target": T x O}, got ${describe(json)}`);
  // A model without inputs (M = 0) may leave x out or give it as [].
  const xs: unknown = M === 0 && (json.x === undefined || (Array.isArray(json.x) && json.x.length === 0)) && Array.isArray(json.target)
    ? json.target.map(() => [])
    : json.x;
  if (!Array.isArray(xs)) throw new InputError(`${f}: x must be a T x ${M} array (T steps x M inputs), got ${describe(xs)}`);
  if (!Array.isArray(json.target)) throw new InputError(`${f}: target must be a T x ${O} array (T steps x O outputs), got ${describe(json.target)}`);
  const T = json.target.length;
  if (T < 1) throw new InputError(`${f}: target must have at least one step, got 0 rows`);
  if (xs.length !== T) throw new InputError(`${f}: x must have one row per step like target (${T} rows), got ${xs.length} rows`);
  const x: Float64Array[] = [];
  const target: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const xr = xs[t] as unknown;
    if (!Array.isArray(xr) || xr.length !== M) throw new InputError(`${f}: x[${t}] must be an array of ${M} numbers (M inputs of the model), got ${describe(xr)}`);
    const tr = json.target[t] as unknown;
    if (!Array.isArray(tr) || tr.length !== O) throw new InputError(`${f}: target[${t}] must be an array of ${O} numbers (O outputs of the model), got ${describe(tr)}`);
    const xv = new Float64Array(M);
    for (let j = 0; j < M; j++) xv[j] = num(f, `x[${t}][${j}]`, xr[j]);
    const tv = new Float64Array(O);
    for (let k = 0; k < O; k++) tv[k] = num(f, `target[${t}][${k}]`, tr[k]);
    x.push(xv);
    target.push(tv);
  }
  return { x, target };
}

/** Row-major rows x cols -> nested arrays. */
export function toNested(a: ArrayLike<number>, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const r: number[] = [];
    for (let j = 0; j < cols; j++) r.push(a[i * cols + j]);
    out.push(r);
  }
  return out;
}

export interface GradientJson {
  W_in: number[][];
  W_rec: number[][];
  b: number[];
  W_out: number[][];
}

export function gradientToJson(g: Gradient, shape: { inputs: number; hidden: number; outputs: number }): GradientJson {
  const { inputs: M, hidden: N, outputs: O } = shape;
  return { W_in: toNested(g.W_in, N, M), W_rec: toNested(g.W_rec, N, N), b: Array.from(g.b), W_out: toNested(g.W_out, O, N) };
}

/** The model.json form of a set of weights (round-trips through parseModel). */
export function modelToJson(w: ModelWeights): Record<string, unknown> {
  const { inputs: M, hidden: N, outputs: O } = w;
  return {
    tau: w.tau,
    W_in: toNested(w.W_in, N, M),
    W_rec: toNested(w.W_rec, N, N),
    b: Array.from(w.b),
    W_out: toNested(w.W_out, O, N),
    h0: Array.from(w.h0),
    B: toNested(w.B, N, O),
  };
}

// ---- output paths

/*
 * Output paths of the commands (--out, --plot, --snapshot): checked before any work, so that a path that cannot be
 * written is refused at once (exit 2, naming the flag, the path and what to do) instead of after a whole search or
 * run; and created without Node's recursive mkdir, which on some paths never returns (Node 20 loops in a busy
 * `mkdir -p /proc/x`, deaf to SIGTERM, because mkdir there fails with ENOENT under a parent that exists).
 */

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** Why an errno stops a write, in words. */
function why(err: unknown): string {
  switch (code(err)) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'the disk is full';
    case 'ENOENT':
      return 'its folder does not exist';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    default:
      return (err as Error).message;
  }
}

/** The nearest existing ancestor of an absolute path (itself if it exists), and its stat. */
function nearestExisting(abs: string): { path: string; isDir: boolean; isFile: boolean } {
  let p = abs;
  for (;;) {
    try {
      const st = statSync(p);
      return { path: p, isDir: st.isDirectory(), isFile: st.isFile() };
    } catch (err) {
      if (code(err) !== 'ENOENT' && code(err) !== 'ENOTDIR') throw err;
    }
    const up = dirname(p);
    if (up === p) return { path: p, isDir: true, isFile: false };
    p = up;
  }
}

/** Creates and removes a probe file in `dir`; returns why that failed, or null when files can be written there. */
function probeWrite(dir: string): string | null {
  const probe = join(dir, `.neurostream-write-check-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (err) {
    if (code(err) === 'EEXIST') return null; // a leftover probe of this pid: the folder took a file before
    // ENOENT in a folder that exists: a file system that creates no files (/proc, /sys)
    return code(err) === 'ENOENT' ? 'files cannot be created there' : why(err);
  }
  try {
    unlinkSync(probe);
  } catch {
    // gone already
  }
  return null;
}

/**
 * Checks before any work that `path` can be written as `kind`: a 'dir' (a report folder, created with its missing
 * parents) or a 'file' (written whole; its folder must exist; an existing one must be a regular file, as it is
 * replaced by rename). `flag` is what the user typed, with its command ("tune --out"). Throws an InputError (exit 2)
 * naming the flag, the path, what is wrong and what to do. Writes nothing that stays (a probe file is removed).
 */
export function checkOutputPath(path: string, kind: 'file' | 'dir', flag: string): void {
  const abs = resolve(path);
  const refuse = (what: string, todo: string): never => {
    throw new InputError(`${flag}: cannot write ${path}: ${what}; ${todo}`);
  };
  const elsewhere = kind === 'dir' ? 'give a folder you can write, e.g. ./reports/mine' : `give a path in a folder you can write, e.g. ./${basename(abs)}`;
  const at = nearestExisting(abs);
  // paths in the message as the user wrote them: relative when theirs was
  const shown = (p: string): string => (isAbsolute(path) ? p : relative(process.cwd(), p) || '.');
  if (at.path === abs) {
    if (kind === 'dir' && !at.isDir) refuse(`it is ${at.isFile ? 'a file' : 'not a folder'}, and ${flag} names a folder`, 'give a folder (it is created if missing)');
    if (kind === 'file' && at.isDir) refuse('it is a folder', `give a file name inside it, e.g. ${join(path, 'out.json')}`);
    if (kind === 'file' && !at.isFile) refuse('it is not a regular file (a device or a socket)', elsewhere);
    if (kind === 'file') {
      try {
        accessSync(abs, constants.W_OK);
      } catch (err) {
        refuse(`the file is not writable (${why(err)})`, `make it writable (chmod u+w ${path}), or ${elsewhere}`);
      }
    }
  } else {
    if (!at.isDir) refuse(`${shown(at.path)} is a file, not a folder`, elsewhere);
    if (kind === 'file' && at.path !== dirname(abs)) refuse(`the folder ${shown(dirname(abs))} does not exist`, `create it first (mkdir -p ${shown(dirname(abs))}), or ${elsewhere}`);
  }
  const folder = kind === 'dir' && at.path === abs ? abs : at.isDir ? at.path : dirname(abs);
  const problem = probeWrite(folder);
  if (problem) refuse(`${folder === abs ? 'in it' : `in ${shown(folder)}`}, ${problem}`, elsewhere);
}

/**
 * `mkdir -p` that cannot loop: each missing folder from the top down, one non-recursive mkdir each, so a folder that
 * cannot be created fails with its errno at once.
 */
export function makeDir(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    try {
      if (statSync(p).isDirectory()) break;
      const err = new Error(`ENOTDIR: not a directory, mkdir '${p}'`) as NodeJS.ErrnoException;
      err.code = 'ENOTDIR';
      throw err;
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw err;
    }
  }
}

/**
 * A write that fails after the up-front check (the disk filled, the folder went away) as an error naming the flag
 * and the path, not a raw errno: runs `write` and rethrows its failure so.
 */
export function writingTo<T>(flag: string, path: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if (code(err) === undefined) throw err;
    throw new Error(`${flag}: could not write ${path}: ${why(err)} (${code(err)}); give another path`);
  }
}

/**
 * An error thrown while writing under `root` (a report folder) as one naming the flag and the file, not a raw errno;
 * any other error is returned unchanged. Node's fs errors carry the path they failed on.
 */
export function namedWriteError(err: unknown, flag: string, root: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (code(err) === undefined || typeof e.path !== 'string') return err;
  const abs = resolve(e.path);
  const top = resolve(root);
  if (abs !== top && !abs.startsWith(top + sep)) return err;
  return new Error(`${flag}: could not write ${e.path}: ${why(err)} (${code(err)}); the report is incomplete, give another folder`);
}
