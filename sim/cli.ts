/**
 * The `neurostream` command. Each subcommand lives in sim/commands/<name>.ts and exports
 * `register(program: Command): void`; add new ones to COMMANDS below.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input, 130/143 stopped by Ctrl-C/SIGTERM before there was
 * anything to report. Errors go to stderr as one message that says
 * what was wrong, what was expected and what to do, without a stack trace (set NEUROSTREAM_DEBUG=1 for one).
 */
import { Command, CommanderError } from 'commander';
import { Failure, InputError, Interrupted } from './modelio.ts';
import { packageVersion } from './version.ts';
import { register as registerDemo } from './commands/demo.ts';
import { register as registerGrad } from './commands/grad.ts';
import { register as registerSim } from './commands/sim.ts';
import { register as registerPlan } from './commands/plan.ts';
import { register as registerSnapshot } from './commands/snapshot.ts';
import { register as registerBoard } from './commands/board.ts';
import { register as registerRun } from './commands/run.ts';
import { register as registerBench } from './commands/bench.ts';
import { register as registerTune } from './commands/tune.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const COMMANDS: ((program: Command) => void)[] = [registerDemo, registerSim, registerGrad, registerPlan, registerSnapshot, registerBoard, registerRun, registerBench, registerTune];

export function buildProgram(): Command {
  const program = new Command('neurostream');
  program
    .description(
      'On-device continual learning for recurrent networks: RTRL, RFLO, SnAp-1 and an output-only baseline ' +
        'learning online from sensor streams, with a float64 reference simulator.',
    )
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes:\n  0  ok\n  1  runtime failure\n  2  bad usage or bad input (unknown option, malformed file, wrong shape)\n' +
        '  130, 143  stopped by Ctrl-C or SIGTERM before there was anything to report (a run stopped while streaming exits 0)\n' +
        '\nExamples:\n  neurostream demo\n  neurostream sim --task periodic --learner rflo --trials 5000 --seeds 1..5\n' +
        '  neurostream grad --model model.json --data data.json --learner rtrl',
    );
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the command line and returns the exit code (does not call process.exit). */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (and help, for --help); it exits 0 only for help / version.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const debug = process.env.NEUROSTREAM_DEBUG === '1';
    if (err instanceof InputError) {
      process.stderr.write(`neurostream: ${err.message}\n`);
      if (debug) process.stderr.write(String(err.stack) + '\n');
      return EXIT_USAGE;
    }
    if (err instanceof Interrupted) {
      process.stderr.write(`neurostream: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof Failure) {
      process.stderr.write(`neurostream: ${err.message}\n`);
      if (debug) process.stderr.write(String(err.stack) + '\n');
      return EXIT_FAILURE;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`neurostream: ${msg}\n`);
    process.stderr.write(debug && err instanceof Error ? String(err.stack) + '\n' : '(set NEUROSTREAM_DEBUG=1 for a stack trace)\n');
    return EXIT_FAILURE;
  }
}
