/**
 * `neurostream plan`: the fixed-point runtime's memory plan (every buffer, its Q format and exact bytes), or the
 * reason the configuration is refused.
 */
import { Command, Option } from 'commander';
import { LEARNER_KINDS } from '../../runtime/types.ts';
import type { LearnerKind } from '../../runtime/types.ts';
import { formatMemoryTable, plan } from '../../runtime/plan.ts';
import type { FixedPlan } from '../../runtime/plan.ts';
import { InputError } from '../modelio.ts';
import { LEARNER_FLAGS, flagMessage, intOption, numberOption } from './options.ts';

export interface PlanArgs {
  learner: LearnerKind;
  hidden: number;
  inputs: number;
  outputs: number;
  tau: number;
  lrRec: number;
  lrOut: number;
  update: 'step' | 'trial';
  trialLength?: number;
  /** The readout reads the input too (y = W_out h + D x): adds D and its accumulator. */
  direct?: boolean;
  /** Normalised (NLMS) readout steps, with eps readoutEps (default 1e-3). */
  normalized?: boolean;
  readoutEps?: number;
  /** 'step' mode: keep the Q30 gradient accumulators (for readGradient); 'trial' mode always has them. */
  accumulateGradient?: boolean;
  memoryBudget?: number;
}

export function runPlan(a: PlanArgs): FixedPlan {
  try {
    return plan({
      learner: a.learner,
      inputs: a.inputs,
      hidden: a.hidden,
      outputs: a.outputs,
      tau: a.tau,
      lrRec: a.lrRec,
      lrOut: a.lrOut,
      update: a.update,
      // per-step updates take each step's rate as given; only trials divide it by their length
      trialLength: a.trialLength ?? (a.update === 'step' ? 1 : 200),
      direct: a.direct === true,
      ...(a.normalized === true ? { normalizedReadout: true, ...(a.readoutEps !== undefined ? { readoutEps: a.readoutEps } : {}) } : {}),
      ...(a.accumulateGradient === true ? { accumulateGradient: true } : {}),
      memoryBudget: a.memoryBudget,
    });
  } catch (err) {
    if (err instanceof RangeError) throw new InputError(flagMessage(err.message, LEARNER_FLAGS));
    throw err;
  }
}

export function planToJson(p: FixedPlan): object {
  return {
    options: p.options,
    totalBytes: p.totalBytes,
    dataBytes: p.dataBytes,
    memoryBudget: p.memoryBudget,
    buffers: p.buffers.map((b) => ({ name: b.name, type: b.type, length: b.length, format: b.format, bytes: b.bytes, offset: b.offset })),
  };
}

export function register(program: Command): void {
  program
    .command('plan')
    .summary("the fixed-point runtime's memory plan for a learner")
    .description('Validates a fixed-point learner configuration and prints every buffer of its arena: type, length, Q format, exact bytes and offset.')
    .addOption(new Option('--learner <name>', 'learning rule').choices(LEARNER_KINDS as LearnerKind[]).makeOptionMandatory())
    .requiredOption('--hidden <N>', 'hidden units', intOption(1))
    .option('--inputs <M>', 'inputs', intOption(0), 1)
    .option('--outputs <O>', 'outputs', intOption(1), 1)
    .option('--tau <steps>', 'time constant, >= 1', numberOption(1), 10)
    .option('--lr-rec <lr>', 'learning rate of W_in, W_rec, b', numberOption(0), 0.03)
    .option('--lr-out <lr>', 'learning rate of W_out', numberOption(0), 0.03)
    .addOption(new Option('--update <mode>', 'per-step or end-of-trial updates').choices(['step', 'trial']).default('trial'))
    .option('--trial-length <P>', 'steps per trial, --update trial only (learning rates are divided by it; default 200)', intOption(1))
    .option('--direct', 'the readout also reads the input (y = W_out h + D x): adds D (O x M, Q7.24) and its accumulator')
    .option('--normalized', "normalised (NLMS) readout steps: lr_out / (eps + |h|^2 (+ |x|^2)); needs --update step, --lr-out below 2")
    .option('--readout-eps <eps>', 'eps of the normalised readout step, in [2^-30, 1] (default 1e-3)', numberOption(0))
    .option('--accumulate-gradient', "--update step: keep the Q30 gradient accumulators (acc_*, for readGradient); 'trial' always has them")
    .option('--memory-budget <bytes>', 'refuse plans larger than this (default 67108864 = 64 MiB)', intOption(1))
    .option('--json', 'print the plan as JSON')
    .addHelpText('after', '\nExample:\n  neurostream plan --learner rtrl --hidden 32 --inputs 4 --outputs 2 --memory-budget 1000000')
    .action((o: PlanArgs & { json?: boolean }) => {
      const p = runPlan(o);
      for (const w of p.warnings) process.stderr.write(`neurostream: warning: ${flagMessage(w, LEARNER_FLAGS)}\n`);
      process.stdout.write(o.json ? JSON.stringify(planToJson(p), null, 2) + '\n' : formatMemoryTable(p) + '\n');
    });
}
