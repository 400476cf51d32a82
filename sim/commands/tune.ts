/**
 * `neurostream tune`: a prequential search over tau, N and the learning rates on a prefix of a stream (a recorded CSV
 * log or a simulator stream). Every candidate learns the prefix from its initial weights, predicting each sample
 * before learning from it; the lowest prefix NMSE wins (a diverged candidate scores +Infinity). The stream defaults
 * (sim/defaults.ts) are always the first candidate, so the winner never scores worse than them on the prefix. The
 * rest of the stream (after the prefix) is held out: the winner and the defaults are each scored on it from fresh
 * weights, and both numbers are reported. Stops trying candidates when the budget (seconds) is spent; progress on
 * stderr. Writes the winner to a file that `sim --config FILE` reads (sim/stream-config.ts).
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { LearnerKind } from '../../runtime/types.ts';
import { LEARNER_KINDS } from '../../runtime/types.ts';
import { createRng, rngUniform } from '../../runtime/rng.ts';
import { STREAM_DEFAULTS, type StreamConfig } from '../defaults.ts';
import { streamConfigToJson } from '../stream-config.ts';
import type { Task } from '../tasks/task.ts';
import { TASK_NAMES, type TaskName } from '../tasks/index.ts';
import { createSimLearner, runStream } from '../tasks/run.ts';
import { InputError, checkOutputPath, writingTo } from '../modelio.ts';
import { createProgress, fmt, table } from '../report.ts';
import { addCsvDialectOptions, makeTask, type SimArgs } from './sim.ts';
import { choiceOption, intOption, numberOption, pathOption } from './options.ts';

export interface TuneArgs extends Pick<SimArgs, 'task' | 'steps' | 'file' | 'columns' | 'target' | 'horizon' | 'normalize' | 'scenario' | 'channels' | 'changeEvery' | 'sampleStep' | 'delimiter' | 'decimal' | 'missing' | 'outlier'> {
  learner: LearnerKind;
  /** Seed of the initial weights (and of the stream, for simulated ones). */
  seed?: number;
  /** Samples of the prefix the search learns on (default: half the stream, at most 5000). */
  prefix?: number;
  /** Seconds to spend on candidates (default 60). */
  budget?: number;
  /** Try at most this many candidates, defaults included (default: the whole grid); makes a search reproducible. */
  candidates?: number;
  /** Where the winner is written (none: not written). */
  out?: string;
  progress?: boolean;
}

export interface TuneCandidate extends StreamConfig {
  prefix_nmse: number;
  diverged: boolean;
}

export interface TuneResult {
  learner: LearnerKind;
  task: string;
  prefix: number;
  rest: number;
  budget_s: number;
  elapsed_s: number;
  tried: number;
  grid: number;
  best: TuneCandidate;
  defaults: TuneCandidate;
  /** Held-out NMSE (the samples after the prefix, learned from fresh weights) of the winner and of the defaults. */
  best_rest_nmse: number | null;
  defaults_rest_nmse: number | null;
  /** Every candidate tried, best first. */
  table: TuneCandidate[];
  description: string;
}

/** The search grid: D and the defaults' readout rule, N, tau, lr_rec and lr_out (or the RLS forgetting factor) varied. */
export function tuneGrid(learner: LearnerKind): StreamConfig[] {
  const d = STREAM_DEFAULTS[learner];
  const out: StreamConfig[] = [];
  const Ns = learner === 'rtrl' ? [4, 8, 12] : [8, 16, 32, 64];
  for (const hidden of Ns)
    for (const tau of [1, 2, 4, 10])
      for (const lrOut of d.rlsReadout !== undefined ? [0.99, 0.995, 0.999] : [0.1, 0.3, 1])
        for (const lrRec of learner === 'output' ? [0] : [0.003, 0.01, 0.03])
          // With the RLS readout (the stream default) its forgetting factor takes the place of lr_out in the grid.
          out.push(
            d.rlsReadout !== undefined
              ? { ...d, hidden, tau, lrRec, rlsReadout: lrOut }
              : { hidden, tau, lrRec, lrOut, direct: true, normalized: true, maxRecStep: d.maxRecStep, gain: d.gain, inScale: d.inScale },
          );
  return out;
}

/** A view of a finite stream that starts `skip` samples in (the held-out rest of a log). */
function skipTask(task: Task, skip: number): Task {
  const x = new Float64Array(task.inputs);
  const t = new Float64Array(task.outputs);
  const view: Task = Object.create(task) as Task;
  return Object.assign(view, {
    length: task.length === null ? null : task.length - skip,
    reset(): void {
      task.reset();
      for (let i = 0; i < skip && task.next(x, t); i++);
    },
    next: (a: Float64Array, b: Float64Array) => task.next(a, b),
    persistence: (o: Float64Array) => task.persistence(o),
    events: task.events.filter((e) => e >= skip).map((e) => e - skip),
  });
}

function score(learner: LearnerKind, c: StreamConfig, task: Task, steps: number, seed: number): { nmse: number; diverged: boolean } {
  const { learner: l } = createSimLearner(
    { learner, hidden: c.hidden, tau: c.tau, lrRec: c.lrRec, lrOut: c.lrOut, update: 'step', seed, direct: c.direct, normalized: c.normalized, maxRecStep: c.maxRecStep, rlsReadout: c.rlsReadout, gain: c.gain, inScale: c.inScale },
    task,
  );
  const r = runStream(l, task, { steps });
  const diverged = r.divergence !== null || !Number.isFinite(r.nmse);
  return { nmse: diverged ? Infinity : r.nmse, diverged };
}

/** The fewest samples tune learns a candidate on (the prefix); the held-out score needs as many again after it. */
export const MIN_PREFIX = 100;

/** Why a stream is too short for tune, in the user's terms: a log's rows, or a simulated stream's --steps. */
function tooShort(a: TuneArgs, task: Task, total: number): string {
  const need = `tune learns on at least ${MIN_PREFIX} samples (and scores the winner on the rest when ${MIN_PREFIX} more follow)`;
  if (a.task === 'csv') {
    const horizon = a.horizon ?? 1;
    const rows = total + task.skipped + horizon;
    const skipped = task.skipped > 0 ? `, ${task.skipped} of them skipped (missing or bad cells)` : '';
    return (
      `tune: the log ${a.file} is too short: ${rows} data row${rows === 1 ? '' : 's'} give${rows === 1 ? 's' : ''} ${total} sample${total === 1 ? '' : 's'} ` +
      `(each row's target is the one --horizon ${horizon} row${horizon === 1 ? '' : 's'} later${skipped}); ${need}: ` +
      `give a log of at least ${MIN_PREFIX + horizon + task.skipped} data rows, ${2 * MIN_PREFIX + horizon + task.skipped} for a held-out score`
    );
  }
  return `tune: --steps ${total} is too short; ${need}: give --steps ${MIN_PREFIX} or more, ${2 * MIN_PREFIX} for a held-out score`;
}

/** Whether the target does not vary over the first `n` samples of the task (read, then the task is reset). */
function constantTarget(task: Task, n: number): boolean {
  const x = new Float64Array(task.inputs);
  const t = new Float64Array(task.outputs);
  let first: number | null = null;
  let varies = false;
  for (let k = 0; k < n && !varies && task.next(x, t); k++) {
    for (let o = 0; o < task.outputs; o++) {
      if (Number.isNaN(t[o])) continue;
      if (first === null) first = t[o];
      else if (t[o] !== first) varies = true;
    }
  }
  task.reset();
  return !varies && first !== null;
}

export function runTune(a: TuneArgs): TuneResult {
  const seed = a.seed ?? 1;
  const budget = a.budget ?? 60;
  // where the winner goes is checked before the search, not found unwritable after it
  if (a.out) checkOutputPath(a.out, 'file', 'tune --out');
  if (a.task === 'periodic') throw new InputError('tune searches stream tasks (drift, csv, board, narma10, mackey-glass); periodic keeps Murray 2019\'s settings');
  const task = makeTask({ ...a, seeds: [seed] } as SimArgs, seed);
  if (task.trialLength !== null) throw new InputError(`tune needs a stream; task ${a.task} is trial-based`);
  const total = task.length ?? a.steps;
  if (total === null || total === undefined) throw new InputError(`task ${a.task} is endless; give --steps N`);
  if (total < MIN_PREFIX) throw new InputError(tooShort(a, task, total));
  // half the stream (at most 5000), and never under MIN_PREFIX: a stream of 100..199 samples is searched whole-ish,
  // with no held-out score
  const prefix = a.prefix ?? Math.min(5000, Math.max(MIN_PREFIX, Math.floor(total / 2)));
  if (prefix > total) throw new InputError(`tune --prefix ${prefix} is longer than the stream (${total} samples); give --prefix ${MIN_PREFIX} to ${total}, or leave it out for half the stream`);
  if (constantTarget(task, prefix)) {
    throw new InputError(
      `tune: the target${a.task === 'csv' ? ` column ${a.target}` : ''} is constant over the ${prefix} samples tune learns on: ` +
        `every candidate's NMSE (squared error / the target's variance) is undefined, so there is nothing to rank; ` +
        (a.task === 'csv' ? 'check --target (and --columns), or give a longer log' : 'give a task whose target varies'),
    );
  }
  const t0 = Date.now();
  const d = STREAM_DEFAULTS[a.learner];
  // Defaults first, then the grid in a seeded shuffled order so that a short budget still samples all of it.
  const grid = tuneGrid(a.learner);
  const rng = createRng(0x7475 ^ seed);
  for (let i = grid.length - 1; i > 0; i--) {
    const j = Math.floor(rngUniform(rng) * (i + 1));
    [grid[i], grid[j]] = [grid[j], grid[i]];
  }
  const order = [d, ...grid].slice(0, Math.max(1, a.candidates ?? Infinity));
  const tried: TuneCandidate[] = [];
  // on a terminal one line rewritten in place; in a log a line every 5 s, not one per candidate
  const progress = createProgress('tune', { enabled: a.progress ?? false });
  for (let i = 0; i < order.length; i++) {
    if (i > 0 && (Date.now() - t0) / 1000 >= budget) break;
    const c = order[i];
    const s = score(a.learner, c, task, prefix, seed);
    tried.push({ ...c, prefix_nmse: s.nmse, diverged: s.diverged });
    const best = Math.min(...tried.map((x) => x.prefix_nmse));
    progress.update(i + 1, order.length, `best prefix NMSE ${fmt(best)}, budget ${budget} s`);
  }
  progress.done();
  const defaults = tried[0];
  const ranked = [...tried].sort((p, q) => p.prefix_nmse - q.prefix_nmse);
  const best = ranked[0];
  let bestRest: number | null = null;
  let defaultsRest: number | null = null;
  const restLen = total - prefix;
  if (restLen >= 100) {
    const rest = skipTask(task, prefix);
    bestRest = score(a.learner, best, rest, restLen, seed).nmse;
    defaultsRest = best === defaults ? bestRest : score(a.learner, defaults, rest, restLen, seed).nmse;
  }
  const result: TuneResult = {
    learner: a.learner,
    task: a.task,
    prefix,
    rest: restLen,
    budget_s: budget,
    elapsed_s: (Date.now() - t0) / 1000,
    tried: tried.length,
    grid: order.length,
    best,
    defaults,
    best_rest_nmse: bestRest,
    defaults_rest_nmse: defaultsRest,
    table: ranked,
    description: task.describe(),
  };
  if (a.out) {
    const { prefix_nmse: _p, diverged: _d, ...cfg } = best;
    const json = streamConfigToJson(
      { learner: a.learner, ...cfg },
      { task: result.description, prefix, prefix_nmse: best.prefix_nmse, defaults_prefix_nmse: defaults.prefix_nmse, rest_nmse: bestRest, defaults_rest_nmse: defaultsRest, tried: tried.length, seed },
    );
    const text = JSON.stringify(json, null, 1) + '\n';
    const out = a.out;
    try {
      writingTo('tune --out', out, () => writeFileSync(out, text));
    } catch (err) {
      // the search is not lost: the winner goes with the message
      throw new Error(`${(err as Error).message}; the best configuration was: ${JSON.stringify(json)}`);
    }
  }
  return result;
}

export function formatTune(r: TuneResult, out?: string, streamFlags?: string): string {
  const lines = [r.description, `learner ${r.learner}: ${r.tried} of ${r.grid} candidates on the first ${r.prefix} samples in ${r.elapsed_s.toFixed(1)} s (budget ${r.budget_s} s)`, ''];
  const rows = [['rank', 'N', 'tau', 'lr_rec', 'lr_out', 'D', 'readout', 'prefix NMSE']];
  const shown = r.table.slice(0, 10);
  // ranks right-aligned among themselves (1 .. 10), the defaults' marker after them
  const w = String(shown.length).length;
  shown.forEach((c, i) => {
    rows.push([String(i + 1).padStart(w) + (c === r.defaults ? ' (defaults)' : ''), String(c.hidden), String(c.tau), String(c.lrRec), c.rlsReadout !== undefined ? '-' : String(c.lrOut), c.direct ? 'on' : 'off', c.rlsReadout !== undefined ? `RLS ${c.rlsReadout}` : c.normalized ? 'normalised' : 'delta rule', c.diverged ? 'diverged' : fmt(c.prefix_nmse)]);
  });
  lines.push(table(rows));
  if (!r.table.slice(0, 10).includes(r.defaults)) lines.push(`defaults: prefix NMSE ${fmt(r.defaults.prefix_nmse)}`);
  if (r.best_rest_nmse !== null) lines.push(`held out (the ${r.rest} samples after the prefix, fresh weights): best ${fmt(r.best_rest_nmse)}, defaults ${fmt(r.defaults_rest_nmse)}`);
  else lines.push(`held out: none (${r.rest} sample${r.rest === 1 ? '' : 's'} after the ${r.prefix}-sample prefix, 100 needed): the ranking above is on the prefix alone; a longer stream gives a held-out score`);
  if (out) lines.push(`written to ${out}; use it with: neurostream sim ${streamFlags ?? `--task ${r.task}`} --learner ${r.learner} --config ${out}`);
  return lines.join('\n');
}

/** The flags that name the same stream for `sim` (quoted where a shell would split them). */
function simFlagsOf(a: TuneArgs): string {
  const q = (v: string): string => (/^[\w.,/:=+-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);
  const f = [`--task ${a.task}`];
  if (a.file !== undefined) f.push(`--file ${q(a.file)}`);
  if (a.columns !== undefined) f.push(`--columns ${q(a.columns.join(','))}`);
  if (a.target !== undefined) f.push(`--target ${q(a.target)}`);
  if (a.horizon !== undefined) f.push(`--horizon ${a.horizon}`);
  if (a.delimiter !== undefined) f.push(`--delimiter ${q(a.delimiter)}`);
  if (a.decimal !== undefined) f.push(`--decimal ${q(a.decimal)}`);
  if (a.missing !== undefined) f.push(`--missing ${q(a.missing.join(','))}`);
  if (a.outlier !== undefined) f.push(`--outlier ${a.outlier}`);
  if (a.scenario !== undefined) f.push(`--scenario ${a.scenario}`);
  if (a.steps !== undefined) f.push(`--steps ${a.steps}`);
  return f.join(' ');
}

export function register(program: Command): void {
  const cmd = program
    .command('tune')
    .summary('search tau, N and learning rates on a prefix of a stream; write the best configuration')
    .description(
      'A prequential search over tau, N and the learning rates of one learner on the first --prefix samples of a stream ' +
        '(a recorded CSV log or a simulator stream), within --budget seconds. Prints the best candidates, scores the winner ' +
        'and the defaults on the rest of the stream, and writes the winner to --out for sim --config.',
    )
    .addOption(new Option('--task <name>', 'stream').choices(TASK_NAMES.filter((n) => n !== 'periodic')).default('csv'))
    .addOption(new Option('--learner <name>', 'learner').choices(LEARNER_KINDS).default('rflo'))
    .option('--prefix <n>', 'samples the search learns on (default: half the stream, at most 5000)', intOption(100))
    .option('--budget <seconds>', 'time for the search (default 60)', numberOption(0, false))
    .option('--candidates <n>', 'try at most n candidates, the defaults first (default: the whole grid); reproducible where a time budget is not', intOption(1))
    .option('--out <file>', 'write the best configuration here (for sim --config)', pathOption, 'tune.json')
    .option('--seed <n>', 'seed of the initial weights (and of a simulated stream)', intOption(0), 1)
    .option('--steps <n>', 'simulated streams: samples (default 10000)', intOption(1))
    .addOption(new Option('--scenario <name>', 'board: mix or heater').argParser(choiceOption(['mix', 'heater'] as const)))
    .option('--file <path>', 'csv: the recorded log, with a header row', pathOption)
    .option('--columns <a,b>', 'csv: input columns by header name', (v: string) => v.split(',').map((c) => c.trim()).filter((c) => c !== ''))
    .option('--target <col>', 'csv: the column to predict')
    .option('--horizon <K>', 'csv, mackey-glass: predict the target K rows ahead (default 1)', intOption(1));
  addCsvDialectOptions(cmd);
  cmd
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', '\nExample:\n  neurostream tune --file examples/sensor-log.csv --columns temperature,humidity,light --target temperature --budget 30 --out tuned.json\n  neurostream sim --task csv --file examples/sensor-log.csv --columns temperature,humidity,light --target temperature --config tuned.json')
    .action((o: TuneArgs & { json?: boolean }) => {
      const { json, ...rest } = o;
      const r = runTune({ ...rest, progress: true });
      process.stdout.write((json ? JSON.stringify(r) : formatTune(r, rest.out, simFlagsOf(rest))) + '\n');
    });
}
