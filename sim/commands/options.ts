/**
 * Option parsers shared by the subcommands. Each throws commander's InvalidArgumentError, so a bad value is
 * reported as "error: option '--x <n>' argument 'v' is invalid. <why>" and the command exits with code 2.
 */
import { InvalidArgumentError } from 'commander';

export function intOption(min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`Expected an integer >= ${min}.`);
    return n;
  };
}

export function numberOption(min: number, inclusive = true): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (inclusive ? n < min : n <= min)) {
      throw new InvalidArgumentError(`Expected a finite number ${inclusive ? '>=' : '>'} ${min}.`);
    }
    return n;
  };
}

/** `--window K`: a positive integer, or 0 / "inf" for full BPTT. */
export function windowOption(v: string): number {
  if (v === 'inf' || v === 'Infinity' || v === '0') return Infinity;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('Expected a positive integer number of steps, or 0 / inf for full BPTT.');
  return n;
}

/** Seeds: "1..5" (inclusive range), "1,2,7", or a mix "1..3,9". Non-negative integers below 2^32, no duplicates. */
export function parseSeeds(v: string): number[] {
  const out: number[] = [];
  for (const part of v.split(',')) {
    const p = part.trim();
    const range = /^(\d+)\.\.(\d+)$/.exec(p);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw new InvalidArgumentError(`Range ${p} runs backwards; write it low..high, e.g. 1..5.`);
      if (b - a > 10000) throw new InvalidArgumentError(`Range ${p} has more than 10000 seeds.`);
      for (let s = a; s <= b; s++) out.push(s);
    } else if (/^\d+$/.test(p)) {
      out.push(Number(p));
    } else {
      throw new InvalidArgumentError(`Expected seeds like 1..5 or 1,2,7 (got "${p}").`);
    }
  }
  for (const s of out) if (s > 0xffffffff) throw new InvalidArgumentError(`Seed ${s} does not fit in 32 bits.`);
  if (new Set(out).size !== out.length) throw new InvalidArgumentError('Seeds repeat; give each seed once.');
  return out;
}

export function choiceOption<T extends string>(choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`Expected one of: ${choices.join(', ')}.`);
    return v as T;
  };
}

/**
 * A runtime configuration error (RangeError from plan(), the scaler, ...) in the user's terms: the configuration's
 * field names (lrRec, trialLength, ...) become the flags this command has (--lr-rec, --trial-length), and advice about
 * a field the command has no flag for is dropped. `flags` maps field name -> flag, or null when the command has none.
 */
export function flagMessage(msg: string, flags: Record<string, string | null>): string {
  let out = msg;
  for (const [field, flag] of Object.entries(flags)) {
    if (flag === null) {
      out = out.replace(new RegExp(`(raise|set|increase) ${field} or `, 'g'), '');
    }
  }
  for (const [field, flag] of Object.entries(flags)) {
    // a field without a flag is spelled in words (memoryBudget -> memory budget)
    const name = flag ?? field.replace(/[A-Z]/g, (c) => ' ' + c.toLowerCase());
    out = out.replace(new RegExp(`(?<![\\w/-])${field}(?![\\w-])`, 'g'), name);
  }
  return out;
}

/** The plan()/learner configuration fields and the flags of the commands that set them. */
export const LEARNER_FLAGS: Record<string, string | null> = {
  lrRec: '--lr-rec',
  lrOut: '--lr-out',
  trialLength: '--trial-length',
  memoryBudget: '--memory-budget',
  hidden: '--hidden',
  inputs: '--inputs',
  outputs: '--outputs',
  tau: '--tau',
  learner: '--learner',
  update: '--update',
  normalizedReadout: '--normalized',
  readoutEps: '--readout-eps',
  accumulateGradient: '--accumulate-gradient',
};
