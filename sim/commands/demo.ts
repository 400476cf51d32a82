/**
 * `neurostream demo`: the simulator on Murray 2019's periodic task, RFLO against the output-only baseline, on the
 * float64 engine, with a progress line on stderr and a short readable summary (and an ASCII plot of one test
 * trial). Runs in well under a minute.
 */
import { Command } from 'commander';
import type { OnlineLearner } from '../../runtime/types.ts';
import { createTask, type Task } from '../tasks/index.ts';
import { createSimLearner, defaultLearningRate, runTrials, type CurvePoint } from '../tasks/run.ts';
import { createProgress, fmt, table } from '../report.ts';
import { intOption } from './options.ts';

/** Target and output of one test trial (learning off), for the plot. */
function testOutputs(learner: OnlineLearner, task: Task): { target: number[]; y: number[] } {
  const P = task.trialLength ?? 0;
  const x = new Float64Array(task.inputs);
  const t = new Float64Array(task.outputs);
  const y = new Float64Array(task.outputs);
  const target: number[] = [];
  const out: number[] = [];
  learner.resetState();
  task.startTrial();
  for (let s = 0; s < P; s++) {
    task.next(x, t);
    learner.step(x, null, y);
    target.push(t[0]);
    out.push(y[0]);
  }
  return { target, y: out };
}

/** A small ASCII chart: '.' target, 'o' RFLO, 'x' output-only ('*' where a learner hits the target). */
export function asciiPlot(series: { mark: string; values: number[] }[], width = 64, height = 13): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) for (const v of s.values) {
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!(hi > lo)) hi = lo + 1;
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  for (const s of series) {
    const n = s.values.length;
    for (let c = 0; c < width; c++) {
      const v = s.values[Math.min(n - 1, Math.floor((c * n) / width))];
      if (!Number.isFinite(v)) continue;
      const r = height - 1 - Math.round(((v - lo) / (hi - lo)) * (height - 1));
      const cur = grid[r][c];
      grid[r][c] = cur === ' ' ? s.mark : cur === '.' ? '*' : cur;
    }
  }
  return grid.map((row, i) => (i === 0 ? fmt(hi).padStart(7) : i === height - 1 ? fmt(lo).padStart(7) : ' '.repeat(7)) + ' |' + row.join('')).join('\n');
}

export function register(program: Command): void {
  program
    .command('demo')
    .summary("RFLO vs output-only on Murray 2019's periodic task, in under a minute")
    .description(
      'Murray 2019\'s periodic task on the float64 simulator: RFLO (recurrent weights learn with a local rule) ' +
        'against the output-only baseline (a fixed random reservoir), same seed and initial weights.',
    )
    .option('--trials <n>', 'training trials per learner', intOption(1), 2000)
    .option('--seed <n>', 'seed of the initial weights', intOption(0), 1)
    .action((o: { trials: number; seed: number }) => {
      const learners = ['rflo', 'output'] as const;
      const results: { name: string; nmse: number; curve: CurvePoint[]; y: number[]; target: number[] }[] = [];
      const progress = createProgress('demo');
      const t0 = Date.now();
      for (let i = 0; i < learners.length; i++) {
        const name = learners[i];
        const task = createTask('periodic', {});
        const lr = defaultLearningRate(name);
        const { learner } = createSimLearner({ learner: name, hidden: 30, tau: 10, lrRec: lr, lrOut: lr, update: 'trial', seed: o.seed }, task);
        const r = runTrials(learner, task, { trials: o.trials, curvePoints: 4, onProgress: (d, t) => progress.update(i * t + d, 2 * t) });
        const { target, y } = testOutputs(learner, task);
        results.push({ name, nmse: r.nmse, curve: r.curve, y, target });
      }
      progress.done();
      const [rflo, out] = results;
      const lines: string[] = [];
      lines.push(`neurostream demo: Murray 2019 periodic task (N = 30, tau = 10, P = 200, ${o.trials} trials, seed ${o.seed}, float64)`);
      lines.push('');
      const head = ['learner', ...rflo.curve.map((p) => `trial ${p.at}`)];
      lines.push('test NMSE (mean squared error / variance of the target; lower is better):');
      lines.push(table([head, ...results.map((r) => [r.name === 'rflo' ? 'RFLO (lr 0.03)' : 'output-only (lr 0.1)', ...r.curve.map((p) => fmt(p.nmse))])]));
      lines.push('');
      lines.push('one test trial (learning off): . target   o RFLO   x output-only   * on target');
      lines.push(asciiPlot([{ mark: '.', values: rflo.target }, { mark: 'x', values: out.y }, { mark: 'o', values: rflo.y }]));
      lines.push('');
      const verdict = rflo.nmse < out.nmse
        ? `RFLO's error is ${fmt(out.nmse / rflo.nmse)} times smaller than the output-only baseline's.`
        : 'RFLO did not beat the output-only baseline on this seed.';
      lines.push(verdict);
      lines.push(`(${((Date.now() - t0) / 1000).toFixed(1)} s; longer runs: neurostream sim --task periodic --learner rflo --trials 5000 --seeds 1..5)`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
