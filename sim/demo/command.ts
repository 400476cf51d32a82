/**
 * `neurostream demo` as a commander subcommand around runDemo: options, Ctrl-C (first: stop streaming and still
 * write the report; second: quit at once), SIGTERM treated like Ctrl-C. The board process and socat are stopped in
 * runDemo's finally block in every case.
 */
import { Command, Option } from 'commander';
import { LEARNER_KINDS } from '../../runtime/types.ts';
import { CONNECT_TIMEOUT_HELP, choiceOption, intOption, numberOption, pathOption, stopOnSignals } from '../commands/options.ts';
import { DEMO_DEFAULTS, runDemo, type DemoOptions } from './index.ts';
import { PLAIN_READOUT_LR } from '../defaults.ts';

export function registerDemo(program: Command): Command {
  return program
    .command('demo')
    .summary('live demo: learn online from the virtual board, write a report with plots (about a minute)')
    .description(
      'Starts the virtual board on a local socket (or opens a real board with --port), connects over the serial bridge, and learns ' +
        'online from its stream with the fixed-point learner, the output-only baseline and the float64 twin of the learner, same samples ' +
        'into all three. Shows a live progress line, then writes a report folder (SVG + PNG plots, index.html, index.md, summary.json) and ' +
        'prints a summary table and the report path.',
    )
    .addOption(new Option('--learner <kind>', 'learning rule of the main learner').argParser(choiceOption(LEARNER_KINDS)).default('rflo'))
    .option('--hidden <n>', `hidden units (default ${DEMO_DEFAULTS.hidden}; ${DEMO_DEFAULTS.hiddenRtrl} for rtrl, whose O(N^4) step cannot keep up with 1 kHz at ${DEMO_DEFAULTS.hidden})`, intOption(1))
    .option('--duration <seconds>', 'seconds of streaming', numberOption(0, false), DEMO_DEFAULTS.duration)
    .option('--port <path>', 'a real board running the bridge protocol instead of the virtual one')
    .option('--inputs <n>', 'channels per sample', intOption(1), 3)
    .option('--outputs <n>', 'targets per sample', intOption(1), 1)
    .option('--rate <hz>', 'sample rate asked of the board', numberOption(1), DEMO_DEFAULTS.rateHz)
    .option('--baud <rate>', 'baud rate of a real board (ignored by pseudo-terminals)', intOption(1), 115200)
    .option('--connect-timeout <seconds>', CONNECT_TIMEOUT_HELP, numberOption(0, false))
    .option('--out <dir>', 'report folder (default ./reports/demo-<timestamp>/)', pathOption)
    .option('--json', 'print the summary as one JSON object on stdout')
    .option('--tau <steps>', 'time constant, >= 1', numberOption(1), DEMO_DEFAULTS.tau)
    .option('--lr-out <rate>', `learning rate of the readout (W_out, D; default ${DEMO_DEFAULTS.lrOut} with normalised steps, below 2; ${PLAIN_READOUT_LR} with --no-normalized, below 0.5)`, numberOption(0))
    .option('--lr-rec <rate>', 'learning rate of W_in, W_rec, b', numberOption(0), DEMO_DEFAULTS.lrRec)
    .option('--no-direct', 'the readout reads h only (y = W_out h); default: it reads the input too (y = W_out h + D x)')
    .option('--no-normalized', 'plain delta-rule readout steps (lr-out per step, below 0.5); default: normalised (NLMS) steps')
    .option('--seed <n>', 'seed of the initial weights and of the virtual board signal', intOption(0), 1)
    .option('--drift-every <samples>', 'virtual board: samples between drift events', intOption(0), DEMO_DEFAULTS.driftEvery)
    .option('--no-progress', 'no progress line on stderr')
    .addHelpText('after', '\nExamples:\n  npm start\n  neurostream demo --duration 20 --out /tmp/report\n  neurostream demo --port /dev/ttyACM0 --json')
    .action(async (c: DemoOptions & { rate: number }) => {
      const { rate, ...rest } = c;
      const o: DemoOptions = { ...rest, rateHz: rate };
      const stop = stopOnSignals('the report is not written (its folder may hold part of it)');
      try {
        await runDemo(o, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), signal: stop.signal, isTTY: process.stderr.isTTY === true });
      } finally {
        stop.release();
      }
    });
}
