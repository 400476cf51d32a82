/**
 * `neurostream grad`: the loss and (approximate) gradient of one sequence for fixed weights, as JSON on stdout:
 *   {"loss": L, "grad": {"W_in": N x M, "W_rec": N x N, "b": N, "W_out": O x N}}
 * L = 1/2 sum_t |target(t) - y(t)|^2 from h0; the gradient has the sign of dL/dW (exact for bptt and rtrl).
 */
import { Command, Option } from 'commander';
import type { Engine, Feedback, Gradient, LearnerKind, ModelWeights } from '../../runtime/types.ts';
import { zeroGradient } from '../../runtime/types.ts';
import { createLearner } from '../engine.ts';
import { computeGradient } from '../reference/index.ts';
import { InputError, gradientToJson, parseData, parseModel, readJsonFile } from '../modelio.ts';
import { choiceOption, pathOption, windowOption } from './options.ts';

export const GRAD_LEARNERS = ['bptt', 'rtrl', 'rflo', 'snap1', 'output'] as const;
export type GradLearner = (typeof GRAD_LEARNERS)[number];

export interface GradArgs {
  model: string;
  data: string;
  learner: GradLearner;
  window?: number;
  feedback?: Feedback;
  engine: Engine;
}

/** Reads and checks both files, then computes; throws InputError for anything wrong with the input. */
export function runGrad(a: GradArgs): { loss: number; grad: ReturnType<typeof gradientToJson> } {
  if (a.engine === 'fixed' && a.learner === 'bptt') {
    throw new InputError('--learner bptt runs on the float64 engine only (it is the reference gradient); use --engine float, or rtrl, rflo, snap1 or output with --engine fixed');
  }
  if (a.window !== undefined && a.learner !== 'bptt') throw new InputError(`--window applies to --learner bptt only (got --learner ${a.learner})`);
  if (a.feedback !== undefined && a.learner !== 'rflo') throw new InputError(`--feedback applies to --learner rflo only (got --learner ${a.learner})`);
  const needB = a.learner === 'rflo' && (a.feedback ?? 'random') === 'random';
  const weights = parseModel(readJsonFile(a.model, 'model.json'), {
    requireB: needB,
    requireBReason: '--learner rflo with random feedback projects the error through B',
  });
  const seq = parseData(readJsonFile(a.data, 'data.json'), weights);
  const { loss, grad } =
    a.engine === 'fixed' && a.learner !== 'bptt'
      ? fixedGradient(a.learner, weights, seq.x, seq.target, a.feedback)
      : computeGradient(a.learner, weights, seq.x, seq.target, { feedback: a.feedback, window: a.window });
  return { loss, grad: gradientToJson(grad, weights) };
}

/**
 * The fixed-point learner's accumulated gradient over the sequence with no weight change ('trial' mode, no endTrial),
 * as float64; the loss is formed in float64 from the fixed-point predictions.
 */
export function fixedGradient(
  kind: LearnerKind,
  weights: ModelWeights,
  x: ArrayLike<number>[],
  target: ArrayLike<number>[],
  feedback?: Feedback,
): { loss: number; grad: Gradient } {
  const T = target.length;
  const learner = createLearner(
    'fixed',
    { learner: kind, inputs: weights.inputs, hidden: weights.hidden, outputs: weights.outputs, tau: weights.tau, lrRec: 0, lrOut: 0, update: 'trial', trialLength: Math.max(1, T), feedback },
    weights,
  );
  const y = new Float64Array(weights.outputs);
  const empty = new Float64Array(0);
  let loss = 0;
  for (let t = 0; t < T; t++) {
    learner.step(x[t] ?? empty, target[t], y);
    for (let o = 0; o < y.length; o++) loss += 0.5 * (target[t][o] - y[o]) ** 2;
  }
  return { loss, grad: learner.readGradient(zeroGradient(weights)) };
}

export function register(program: Command): void {
  program
    .command('grad')
    .summary('loss and gradient of one sequence for fixed weights, as JSON')
    .description(
      'Loss and gradient of one sequence for fixed weights, as JSON on stdout: ' +
        '{"loss": L, "grad": {"W_in": NxM, "W_rec": NxN, "b": N, "W_out": OxN}}, L = 1/2 sum_t |target(t) - y(t)|^2. ' +
        'Exact for bptt and rtrl; rflo, snap1 and output give their approximation (output: zeros but W_out).',
    )
    .requiredOption('--model <file>', 'model.json: {"tau", "W_in": NxM, "W_rec": NxN, "b": N, "W_out": OxN, "h0": N, "B": NxO} (B for rflo only; M may be 0)', pathOption)
    .requiredOption('--data <file>', 'data.json: {"x": TxM, "target": TxO}; x[t-1], target[t-1] belong to step t', pathOption)
    .addOption(new Option('--learner <name>', 'which gradient').choices(GRAD_LEARNERS).makeOptionMandatory())
    .option('--window <K>', 'bptt only: truncation window in steps (0 or inf = full BPTT, the default)', windowOption)
    .addOption(new Option('--feedback <kind>', 'rflo only: error feedback through B (random) or W_out^T (transpose)').argParser(choiceOption(['random', 'transpose'] as const)))
    .addOption(new Option('--engine <engine>', 'numeric engine').choices(['float', 'fixed']).default('float'))
    .addHelpText('after', '\nExample:\n  neurostream grad --model model.json --data data.json --learner bptt --window 20')
    .action((o: { model: string; data: string; learner: GradLearner; window?: number; feedback?: Feedback; engine: Engine }) => {
      const r = runGrad(o);
      process.stdout.write(JSON.stringify(r) + '\n');
    });
}
