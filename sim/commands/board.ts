/**
 * `neurostream board --virtual`: starts a virtual board (a separate process speaking the bridge protocol on a
 * local socket, or with --pty on one end of a socat pseudo-terminal pair), prints the host-side path on stdout,
 * and keeps it running until Ctrl-C. Point `neurostream run --port PATH` (or any program using
 * firmware-bridge/session.ts with hostTransport(PATH)) at that path.
 */
import { Command } from 'commander';
import { InputError } from '../modelio.ts';
import { hasSocat, startVirtualBoard, type StartVirtualBoardOptions } from '../board/index.ts';
import { STOP_SIGNALS, intOption, numberOption } from './options.ts';

export interface BoardArgs {
  virtual?: boolean;
  pty?: boolean;
  channels: number;
  outputs: number;
  rate: number;
  seed: number;
  noise: number;
  driftEvery: number;
}

export function boardOptions(a: BoardArgs): StartVirtualBoardOptions {
  return { channels: a.channels, outputs: a.outputs, rateHz: a.rate, seed: a.seed, noise: a.noise, driftEvery: a.driftEvery, link: a.pty ? 'pty' : 'socket' };
}

export function register(program: Command): void {
  program
    .command('board')
    .summary('start a virtual board on a local socket (or a pseudo-terminal) and print its path')
    .description(
      'Starts a virtual board: a process that streams synthetic sensor signals (sums of sinusoids with noise and ' +
        'abrupt frequency/amplitude changes every --drift-every samples) over the bridge protocol on a local socket ' +
        '(Node alone), or with --pty on one end of a socat pseudo-terminal pair (the serial path itself). Prints the ' +
        'host-side path on stdout and runs until Ctrl-C.',
    )
    .option('--virtual', 'start a virtual board (the only kind this command can start)')
    .option('--pty', 'use a socat pseudo-terminal pair instead of a local socket (needs socat)')
    .option('--channels <n>', 'sensor channels', intOption(1), 3)
    .option('--outputs <n>', 'target values per sample', intOption(0), 1)
    .option('--rate <hz>', 'samples per second', numberOption(1), 1000)
    .option('--seed <n>', 'signal seed', intOption(0), 1)
    .option('--noise <sd>', 'sensor noise standard deviation', numberOption(0), 0.02)
    .option('--drift-every <samples>', 'samples between drift events (0: never)', intOption(0), 4000)
    .addHelpText('after', '\nExample:\n  neurostream board --virtual\n  neurostream run --port <printed path> --learner rflo')
    .action(async (a: BoardArgs) => {
      if (!a.virtual) {
        throw new InputError('board: only virtual boards can be started here (add --virtual); for a real board pass its path to `neurostream run --port`');
      }
      if (a.pty && !hasSocat()) throw new InputError('board --pty: socat is not installed; install it with: apt-get install -y --no-install-recommends socat');
      const board = await startVirtualBoard(boardOptions(a));
      process.stdout.write(board.path + '\n');
      process.stderr.write(
        `virtual board running (pid ${board.pid}, ${a.channels} channels, ${a.outputs} outputs, ${a.rate} Hz, drift every ${a.driftEvery} samples); ` +
          `try: neurostream run --port ${board.path} --learner rflo   (Ctrl-C stops the board)\n`,
      );
      await new Promise<void>((resolve) => {
        // a closed terminal (SIGHUP) stops the board as Ctrl-C does: socat and its pty links do not outlive it
        const stop = (): void => {
          for (const sig of STOP_SIGNALS) process.off(sig, stop);
          void board.stop().then(resolve);
        };
        for (const sig of STOP_SIGNALS) process.on(sig, stop);
      });
    });
}
