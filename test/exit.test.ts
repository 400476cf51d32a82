// Every command's failure path exits, with code 2 for bad input and a message in the flags the user typed.
// The 120 s limit is a hang detector (these paths used to wait forever for a board they had left open), not a timing
// bound: on an idle machine each exits in about a second.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { withResources, Resources } from '../sim/lifetime.ts';
import { createPtyPair, hasSocat, startVirtualBoard } from '../sim/board/index.ts';
import { DeviceLearnerClient } from '../firmware-bridge/device/client.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'neurostream.js');
const HANG = 120_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

function run(args: string[], nodeArgs: string[] = []): Promise<Exit> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...nodeArgs, bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      hung = true;
      p.kill('SIGKILL');
    }, HANG);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

/** Bad input: exits by itself, code 2, one message naming `flag`, nothing left open behind the command's back. */
async function refused(t: import('ava').ExecutionContext, args: string[], flag: RegExp, nodeArgs: string[] = []): Promise<string> {
  const r = await run(args, nodeArgs);
  t.false(r.hung, `neurostream ${args.join(' ')} did not exit within ${HANG / 1000} s; stderr: ${r.stderr}`);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, flag);
  t.notRegex(r.stderr, /still holding/, 'the command exited with resources still open');
  t.notRegex(r.stderr, /\b(lrRec|lrOut|trialLength|memoryBudget|rateHz|config\.\w+)\b/, 'a configuration field name instead of a flag');
  return r.stderr;
}

// The two reports of the issue: the board opened before the error stayed open.
test.serial('run --virtual --lr-rec 0.6 exits 2 naming --lr-rec, with a range that leaves 0.5 out', async (t) => {
  const err = await refused(t, ['run', '--virtual', '--lr-rec', '0.6', '--no-progress'], /--lr-rec must be 0 or in \[.+, 4\.999e-1\]/);
  t.notRegex(err, /5\.000e-1/);
});

test.serial('run --virtual --lr-rec 0.5 is refused with an upper bound printed below 0.5', async (t) => {
  await refused(t, ['run', '--virtual', '--lr-rec', '0.5', '--no-progress'], /--lr-rec must be 0 or in \[2\.385e-7, 4\.999e-1\].*\(got 0\.5\)/);
});

test.serial('run --virtual --hidden 3000 exits 2 and its advice names an option run has', async (t) => {
  const err = await refused(t, ['run', '--virtual', '--hidden', '3000', '--no-progress'], /--hidden = 3000, .*needs \d+ bytes.*reduce --hidden/);
  t.notRegex(err, /--memory-budget/, 'run has no --memory-budget');
});

test.serial('run --port with a refused --tau exits 2 without opening the port', async (t) => {
  await refused(t, ['run', '--port', '/nonexistent/tty', '--engine', 'float', '--lr-out', '0', '--tau', '1', '--lr-rec', '-1', '--no-progress'], /--lr-rec/);
});

test.serial('run --port naming a path that does not exist, or a regular file, exits 2 naming --port instead of retrying forever', async (t) => {
  await refused(t, ['run', '--port', '/dev/neurostream-no-such-tty', '--no-progress'], /run --port: \/dev\/neurostream-no-such-tty does not exist/);
  await refused(t, ['run', '--port', join(root, 'package.json'), '--no-progress'], /run --port: .*package\.json is a regular file, not a serial device/);
});

/**
 * A link that never completes the handshake: the command gives up after --connect-timeout seconds by itself (not
 * killed, not retrying until Ctrl-C), exit 1 (the device did not answer: a runtime failure, as in demo), with advice.
 */
async function gaveUp(t: import('ava').ExecutionContext, args: string[], port: string): Promise<string> {
  const r = await run(args);
  t.false(r.hung, `neurostream ${args.join(' ')} did not give up; stderr: ${r.stderr}`);
  t.is(r.signal, null, 'exited by itself');
  t.is(r.code, 1, r.stderr);
  t.true(r.stderr.includes(`no answer from the board at ${port} within 1 s`), r.stderr);
  t.regex(r.stderr, /--baud/);
  t.regex(r.stderr, /bridge firmware/);
  t.regex(r.stderr, /StandardFirmata/);
  t.regex(r.stderr, /--connect-timeout/);
  t.notRegex(r.stderr, /still holding/, 'the command exited with resources still open');
  t.notRegex(r.stderr, /NEUROSTREAM_DEBUG/, 'an expected failure, said in full: no stack-trace hint');
  return r.stderr;
}

test.serial('run --port at a board that never answers gives up after --connect-timeout with advice instead of retrying forever', async (t) => {
  // a silent peer: a local socket that accepts and never says a word (the bridge's HELLO goes unanswered)
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-silent-'));
  const sock = join(dir, 'board.sock');
  const server = createServer(() => {});
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const err = await gaveUp(t, ['run', '--port', sock, '--connect-timeout', '1', '--no-progress'], sock);
    t.regex(err, /\(last: [^)]*HELLO/, 'says what happened on the link');
    t.regex(err, /add --firmata/);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // a character device that is no terminal can never be a board: refused at once, not retried until the timeout
  await refused(t, ['run', '--port', '/dev/null', '--no-progress'], /run --port: \/dev\/null is a character device \(mem\/null\), not a serial device/);
  // --port beside --virtual would be ignored: refused
  await refused(t, ['run', '--virtual', '--port', sock, '--no-progress'], /run: --virtual starts a board of its own, and --port .* names yours; give one of them/);
});

test.serial('run --port at a bare pseudo-terminal (nothing on the other end) gives up after --connect-timeout', async (t) => {
  if (!hasSocat()) {
    if (process.env.CI) t.fail('socat is needed for this test under CI');
    else t.log('skipped: socat is not installed');
    t.pass();
    return;
  }
  const pty = await createPtyPair();
  try {
    await gaveUp(t, ['run', '--port', pty.host, '--connect-timeout', '1', '--no-progress'], pty.host);
    // --firmata waits for the StandardFirmata handshake as long as --connect-timeout says (it was a fixed 15 s)
    const r = await run(['run', '--firmata', '--port', pty.host, '--connect-timeout', '1', '--no-progress']);
    t.false(r.hung, r.stderr);
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, /run --firmata: no StandardFirmata handshake from .* within 1 s; .*--connect-timeout sets how long to wait \(now 1 s\)/);
    // --duration ends that wait too, saying so
    const d = await run(['run', '--firmata', '--port', pty.host, '--duration', '1', '--no-progress']);
    t.false(d.hung, d.stderr);
    t.is(d.code, 1, d.stderr);
    t.regex(d.stderr, /run: --duration 1 s ended while waiting for the StandardFirmata handshake from /);
  } finally {
    await pty.close();
  }
});

test.serial('demo --port at a board that never answers gives up after --connect-timeout with the same advice', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'neurostream-demo-')), 'report');
  try {
    const sock = join(dirname(out), 'board.sock');
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      await gaveUp(t, ['demo', '--port', sock, '--connect-timeout', '1', '--no-progress', '--out', out], sock);
    } finally {
      server.close();
    }
    await refused(t, ['demo', '--port', '/dev/null', '--no-progress', '--out', out], /demo --port: \/dev\/null is a character device/);
  } finally {
    rmSync(dirname(out), { recursive: true, force: true });
  }
});

test.serial('demo --port naming a path that does not exist, or a regular file, exits 2 at once naming --port (the check run makes)', async (t) => {
  await refused(t, ['demo', '--port', '/dev/neurostream-no-such-tty', '--no-progress', '--out', join(root, 'reports', 'never')], /demo --port: \/dev\/neurostream-no-such-tty does not exist/);
  await refused(t, ['demo', '--port', join(root, 'package.json'), '--no-progress', '--out', join(root, 'reports', 'never')], /demo --port: .*package\.json is a regular file, not a serial device/);
  t.false(existsSync(join(root, 'reports', 'never')), 'nothing was written');
});

test.serial('an output flag that cannot be written is refused before any work, exit 2 naming the flag and the path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-outflags-'));
  try {
    // tune: checked before the search (no progress line, no table), not after it with a raw errno
    const missing = join(dir, 'no-such-folder', 'tuned.json');
    let err = await refused(t, ['tune', '--task', 'drift', '--steps', '2000', '--candidates', '3', '--out', missing], /tune --out: cannot write .*no-such-folder.tuned\.json: the folder .* does not exist; create it first/);
    t.notRegex(err, /candidates, best prefix NMSE/, 'the search ran before the check');
    err = await refused(t, ['tune', '--task', 'drift', '--steps', '2000', '--candidates', '3', '--out', dir], /tune --out: cannot write .*: it is a folder; give a file name inside it/);
    // sim --plot: checked before the seeds run
    const r = await run(['sim', '--task', 'drift', '--steps', '300', '--learner', 'output', '--plot', join(root, 'package.json', 'report')]);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, /sim --plot: cannot write .*package\.json.report: .*package\.json is a file, not a folder/);
    t.is(r.stdout, '', 'no results printed before the refusal');
    // run --snapshot: checked before the board starts
    await refused(t, ['run', '--virtual', '--no-progress', '--snapshot', join(dir, 'gone', 'learner.bin')], /run --snapshot: cannot write .*learner\.bin: the folder .*gone does not exist/);
    t.deepEqual(readdirSync(dir), [], 'nothing was written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('sim --plot and demo --out under /proc are refused at once (they used to spin a core in mkdir, deaf to SIGTERM)', async (t) => {
  if (process.platform !== 'linux') {
    t.log('skipped: /proc is Linux only');
    t.pass();
    return;
  }
  const r = await run(['sim', '--task', 'drift', '--steps', '300', '--learner', 'output', '--plot', '/proc/neurostream-nope']);
  t.false(r.hung, r.stderr);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /sim --plot: cannot write \/proc\/neurostream-nope: in \/proc, /);
  await refused(t, ['demo', '--duration', '1', '--no-progress', '--out', '/proc/neurostream-nope'], /demo --out: cannot write \/proc\/neurostream-nope: in \/proc, .*give a folder you can write/);
});

test.serial('--rate above what the board samples exits 2 at once naming --rate and the accepted range, not rateHz', async (t) => {
  // the virtual board's bound (its CAPABILITIES' maxRateHz), checked before the board starts
  await refused(t, ['run', '--virtual', '--rate', '100000', '--no-progress'], /run --rate: the virtual board samples 1 to 20000 times a second \(got 100000\); give --rate 20000 or less/);
  await refused(t, ['demo', '--rate', '100000', '--no-progress', '--out', join(root, 'reports', 'never')], /demo --rate: the virtual board samples 1 to 20000 times a second/);
  // a board at --port states its bound in CAPABILITIES: refused at the handshake, in the flags of the command
  const board = await startVirtualBoard({ channels: 3, outputs: 1, rateHz: 1000, seed: 1 });
  try {
    await refused(t, ['run', '--port', board.path, '--rate', '100000', '--no-progress'], /run --rate: the board at .* samples at most 20000 times a second \(its CAPABILITIES; got --rate 100000\); give --rate 1 to 20000/);
    await refused(t, ['run', '--port', board.path, '--inputs', '5', '--no-progress'], /run --inputs: the board at .* streams at most 3 channels .*give --inputs 1 to 3/);
  } finally {
    await board.stop();
  }
  t.false(existsSync(join(root, 'reports', 'never')));
});

test.serial('run --firmata without johnny-five installed exits 2 with the install command', async (t) => {
  // a module loader hook that finds neither optional peer dependency, as in an install without them
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-nofive-'));
  try {
    writeFileSync(
      join(dir, 'hook.mjs'),
      "export async function resolve(s, c, next) { if (s === 'johnny-five' || s === 'firmata-io') { const e = new Error(`Cannot find package '${s}'`); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }\n",
    );
    writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hook.mjs', import.meta.url);\n");
    const err = await refused(t, ['run', '--port', '/dev/null', '--firmata', '--no-progress'], /run --firmata: .*johnny-five and firmata-io.*not installed/, ['--import', join(dir, 'register.mjs')]);
    t.regex(err, /npm install johnny-five@\S+ firmata-io@\S+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('run and plan: --no-normalized alone starts from a rate the plain delta rule accepts; plan in step mode takes the rate as given', async (t) => {
  const r = await run(['plan', '--learner', 'rflo', '--hidden', '8', '--update', 'step', '--lr-rec', '0.5']);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /--lr-rec must be/);
  const ok = await run(['run', '--virtual', '--no-normalized', '--duration', '2', '--json', '--no-progress']);
  t.is(ok.code, 0, ok.stderr);
  t.is(JSON.parse(ok.stdout).lr_out, 0.01);
});

test.serial('run --on-device with a refused learning rate exits 2 before building or opening anything', async (t) => {
  await refused(t, ['run', '--on-device', '--port', '/nonexistent/tty', '--lr-out', '2.5'], /--lr-out must be below 2 with --normalized/);
  await refused(t, ['run', '--on-device', '--port', '/nonexistent/tty', '--no-normalized', '--lr-out', '0.9'], /--lr-out must be 0 or in/);
});

test.serial('demo with a refused --lr-rec exits 2 before starting the board', async (t) => {
  await refused(t, ['demo', '--lr-rec', '0.6', '--duration', '1', '--no-progress', '--out', join(root, 'reports', 'never')], /demo: --lr-rec must be 0 or in/);
});

test.serial('sim --engine fixed --lr-rec far out of range exits 2 naming --lr-rec', async (t) => {
  await refused(t, ['sim', '--engine', 'fixed', '--trials', '1', '--lr-rec', '100000'], /--lr-rec \/ trial length must be 0 or in/);
});

test.serial('sim with a --hidden too large for memory exits 2 naming --hidden', async (t) => {
  await refused(t, ['sim', '--trials', '1', '--hidden', '100000'], /--hidden 100000 does not fit in memory/);
});

test.serial('sim --task csv with a missing file exits 2 naming --file', async (t) => {
  await refused(t, ['sim', '--task', 'csv', '--file', '/nonexistent.csv', '--columns', 'a', '--target', 'b'], /--file/);
});

test.serial('plan with a refused --lr-rec exits 2 naming --lr-rec', async (t) => {
  await refused(t, ['plan', '--learner', 'rflo', '--hidden', '4', '--update', 'step', '--trial-length', '1', '--lr-rec', '0.5'], /--lr-rec must be 0 or in \[.+, 4\.999e-1\]/);
});

test.serial('plan over its budget advises --memory-budget, which plan has', async (t) => {
  await refused(t, ['plan', '--learner', 'rtrl', '--hidden', '64', '--memory-budget', '1000'], /raise --memory-budget or reduce --hidden/);
});

test.serial('grad with a missing model file exits 2', async (t) => {
  await refused(t, ['grad', '--model', '/nonexistent.json', '--data', '/nonexistent.json', '--learner', 'rtrl'], /nonexistent\.json/);
});

test.serial('snapshot inspect of a missing file exits 2', async (t) => {
  await refused(t, ['snapshot', 'inspect', '/nonexistent.snap'], /cannot read snapshot/);
});

test.serial('board without --virtual exits 2', async (t) => {
  await refused(t, ['board'], /--virtual/);
});

test.serial('bench with an unknown option exits 2', async (t) => {
  await refused(t, ['bench', '--no-such-option'], /unknown option '--no-such-option'/);
});

test.serial('withResources closes what was opened, last first, when the body throws, and a stuck close is given up on', async (t) => {
  const order: string[] = [];
  const problems: string[] = [];
  await t.throwsAsync(
    withResources(async (res) => {
      res.add('port', () => order.push('port'));
      res.add('board', async () => {
        order.push('board');
      });
      throw new Error('bad --lr-rec');
    }),
    { message: 'bad --lr-rec' },
  );
  t.deepEqual(order, ['board', 'port']);
  const res = new Resources();
  res.add('first', () => order.push('first'));
  res.add('stuck sensor', () => new Promise(() => {}));
  res.add('failing port', () => {
    throw new Error('EIO');
  });
  const failed = await res.closeAll((m) => problems.push(m), 50);
  t.deepEqual(failed, ['failing port', 'stuck sensor']);
  t.is(order[order.length - 1], 'first', 'the closes after a stuck one still ran');
  t.regex(problems.join('\n'), /closing failing port failed: EIO[\s\S]*closing stuck sensor took over 50 ms/);
  t.throws(() => res.add('late', () => {}), { message: /after the command's resources were closed/ });
});

test.serial('plan --tau 22000 plans but warns that the state updates round away, naming the largest faithful --tau', async (t) => {
  const r = await run(['plan', '--learner', 'rflo', '--hidden', '4', '--tau', '22000']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /warning: --tau = 22000 is not faithful in fixed point.*largest faithful value is --tau = 2114/);
});

/**
 * `run --virtual --json --snapshot SNAP`, signalled by `signal(pid)` once a progress line (every 5 s off a terminal)
 * shows samples stepped (the board may take long to start). detached: run in its own process group, as a shell
 * starts a foreground job.
 */
function runVirtualUntilSignalled(snap: string, detached: boolean, signal: (pid: number) => void): Promise<Exit> {
  return new Promise<Exit>((resolve) => {
    const p = spawn(process.execPath, [bin, 'run', '--virtual', '--json', '--snapshot', snap], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached });
    let stdout = '';
    let stderr = '';
    let sent = false;
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && /run: [1-9]\d* samples/.test(stderr)) {
        sent = true;
        signal(p.pid!);
      }
    });
    const timer = setTimeout(() => process.kill(detached ? -p.pid! : p.pid!, 'SIGKILL'), HANG);
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr, hung: !sent });
    });
  });
}

test.serial('SIGTERM ends run --virtual as Ctrl-C does: the summary is printed and the snapshot written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-sigterm-'));
  const snap = join(dir, 'learner.bin');
  try {
    const r = await runVirtualUntilSignalled(snap, false, (pid) => process.kill(pid, 'SIGTERM'));
    t.false(r.hung, r.stderr);
    t.is(r.signal, null, 'exited by itself, not killed by the signal');
    t.is(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim()) as { samples: number };
    t.true(s.samples > 0);
    t.true(existsSync(snap), 'the snapshot was written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial("a terminal's Ctrl-C (SIGINT to the whole process group) ends run --virtual with its summary and no disconnect: the built-in board is not in the group, and is stopped by run", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-sigint-'));
  const snap = join(dir, 'learner.bin');
  try {
    let inGroup: string[] = [];
    // --snapshot: writing it at the end gives run the time to see a board that died with the Ctrl-C
    const r = await runVirtualUntilSignalled(snap, true, (pid) => {
      // the processes in run's group when the signal goes out: the board process must not be one of them
      inGroup = boardProcesses('pgrp', pid);
      process.kill(-pid, 'SIGINT');
    });
    t.false(r.hung, r.stderr);
    t.is(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim()) as { samples: number; disconnects: number; board_gone_at_end: boolean };
    t.true(s.samples > 0);
    t.is(s.disconnects, 0, 'the board did not die with the Ctrl-C');
    t.false(s.board_gone_at_end);
    t.deepEqual(inGroup, [], "the board process is not in run's process group");
    t.true(existsSync(snap), 'the snapshot was written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Virtual board processes (sim/board/main), as "pid args", whose parent (`ppid`) or process group (`pgrp`) is `id`,
 * read from /proc (Linux).
 */
function boardProcesses(field: 'ppid' | 'pgrp', id: number): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // stat: pid (comm) state ppid pgrp ...; comm may hold spaces, so split after its closing parenthesis
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[field === 'ppid' ? 1 : 2]);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (value === id && args.includes('board/main')) found.push(`${pid} ${args}`);
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

/**
 * `neurostream ARGS`, sent SIGINT (a Ctrl-C) once `ready(pid, stderr)` holds, checked as stderr grows and every 50 ms
 * (a condition, not a delay). hung: the command did not exit within HANG after it.
 */
function runUntilCtrlC(args: string[], ready: (pid: number, stderr: string) => boolean): Promise<Exit & { sent: boolean }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const check = (): void => {
      if (!sent && p.exitCode === null && ready(p.pid!, stderr)) {
        sent = true;
        p.kill('SIGINT');
      }
    };
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    const poll = setInterval(check, 50);
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      p.kill('SIGKILL');
    }, HANG);
    p.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung, sent });
    });
  });
}

/** True when process `pid` has `path` (a device or socket, resolved) open. */
function holdsOpen(pid: number, path: string): boolean {
  try {
    const target = realpathSync(path);
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === target;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Stopped by Ctrl-C before there was anything to report: code 130, `said` on stderr, no summary, nothing left open. */
function stoppedEarly(t: import('ava').ExecutionContext, r: Exit & { sent: boolean }, said: RegExp): void {
  t.true(r.sent, `the command ended before it was signalled: ${r.stderr}`);
  t.false(r.hung, `did not exit after Ctrl-C; stderr: ${r.stderr}`);
  t.is(r.signal, null, 'exited by itself');
  t.is(r.code, 130, r.stderr);
  t.regex(r.stderr, said);
  t.is(r.stdout, '', 'no summary of a run that never streamed');
  t.notRegex(r.stderr, /still holding|NEUROSTREAM_DEBUG/, r.stderr);
}

test.serial('Ctrl-C while run or demo waits for a silent board ends it at once with exit 130 and what it was waiting for, not an empty summary or report; --duration running out first is a failure that says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-silent-'));
  const sock = join(dir, 'board.sock');
  const server = createServer(() => {});
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    // the HELLO went unanswered three times: run is waiting (up to --connect-timeout, 30 s) when the Ctrl-C comes
    const r = await runUntilCtrlC(['run', '--port', sock, '--no-progress'], (_pid, err) => /no answer to HELLO/.test(err));
    stoppedEarly(t, r, /run: stopped before the board at .*board\.sock streamed a sample \(last on the link: [^)]*HELLO[^)]*\); nothing was learned or written/);
    // demo likewise: no report of empty curves
    const out = join(dir, 'report');
    const m = await runUntilCtrlC(['demo', '--port', sock, '--out', out, '--no-progress'], (_pid, err) => /no answer to HELLO/.test(err));
    stoppedEarly(t, m, /demo: stopped before the board at .*board\.sock streamed a sample \(last on the link: [^)]*HELLO[^)]*\); no report written/);
    t.false(existsSync(join(out, 'index.html')), 'no report was written');
    const d = await run(['run', '--port', sock, '--duration', '1', '--json', '--no-progress']);
    t.false(d.hung, d.stderr);
    t.is(d.code, 1, d.stderr);
    t.regex(d.stderr, /run: --duration 1 s ended before the board at .* streamed a sample/);
    t.is(d.stdout, '', 'no JSON summary of a run that never streamed');
    // several unanswered HELLO rounds (about 1.5 s each) are said once, not once per round
    const g = await run(['run', '--port', sock, '--connect-timeout', '5', '--no-progress']);
    t.is(g.code, 1, g.stderr);
    t.is(g.stderr.match(/^no handshake yet: no answer to HELLO after 3 tries; retrying for up to 5 s \(Ctrl-C to stop\)$/gm)?.length, 1, g.stderr);
    t.notRegex(g.stderr, /^disconnected:/m, g.stderr);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('run --on-device and run --firmata at a silent pseudo-terminal: the device gets --connect-timeout, and Ctrl-C during either handshake ends the command at once with exit 130', async (t) => {
  if (!hasSocat()) {
    if (process.env.CI) t.fail('socat is needed for this test under CI');
    else t.log('skipped: socat is not installed');
    t.pass();
    return;
  }
  const pty = await createPtyPair();
  try {
    const g = await run(['run', '--on-device', '--port', pty.host, '--connect-timeout', '1']);
    t.false(g.hung, g.stderr);
    t.is(g.code, 1, g.stderr);
    t.regex(g.stderr, /run --on-device: no answer from the board at .* within 1 s \(last: HELLO sent, no CAPABILITIES back\)\. Check that --port/);
    t.notRegex(g.stderr, /still holding/);
    // Ctrl-C while the firmware's CAPABILITIES are awaited (30 s by default)
    const d = await runUntilCtrlC(['run', '--on-device', '--port', pty.host], (_pid, err) => /run --on-device: rflo/.test(err));
    stoppedEarly(t, d, /run --on-device: stopped before the run on .* finished; nothing to compare/);
    // Ctrl-C while StandardFirmata's handshake is awaited (15 s by default): once run holds the port open
    const f = await runUntilCtrlC(['run', '--firmata', '--port', pty.host, '--no-progress'], (pid) => holdsOpen(pid, pty.host));
    stoppedEarly(t, f, /run: stopped while waiting for the StandardFirmata handshake from .*; nothing was learned or written/);
  } finally {
    await pty.close();
  }
});

test.serial('a board that completed the handshake but sent no sample yet: --duration running out, in run and demo, says so and exits 1 without an empty summary or report', async (t) => {
  // at 1 sample a second the first sample is due a second after streaming starts; --duration 0.5 ends before it
  const r = await run(['run', '--virtual', '--rate', '1', '--duration', '0.5', '--json', '--no-progress']);
  t.false(r.hung, r.stderr);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /run: --duration 0\.5 s ended before the board at .* streamed a sample \(last on the link: /);
  t.notRegex(r.stderr, /NEUROSTREAM_DEBUG/, 'an expected failure, said in full: no stack-trace hint');
  t.is(r.stdout, '', 'no JSON summary of a run that stepped nothing');
  t.notRegex(r.stderr, /still holding/);
  const out = join(mkdtempSync(join(tmpdir(), 'neurostream-demo-')), 'report');
  try {
    const d = await run(['demo', '--rate', '1', '--duration', '0.5', '--json', '--out', out, '--no-progress']);
    t.false(d.hung, d.stderr);
    t.is(d.code, 1, d.stderr);
    t.regex(d.stderr, /demo: --duration 0\.5 s ended before the board at .* streamed a sample .*no report written/);
    t.is(d.stdout, '');
    t.false(existsSync(join(out, 'index.html')), 'no report of empty curves');
  } finally {
    rmSync(dirname(out), { recursive: true, force: true });
  }
});

test.serial('run --on-device refuses the live-run flags it cannot honour (--duration, --snapshot) and a virtual bridge board\'s socket as --port, as --firmata does; an empty path flag is refused', async (t) => {
  await refused(t, ['run', '--on-device', '--virtual', '--duration', '3'], /run --on-device streams --steps samples .*--duration does not apply: give --steps instead/);
  await refused(t, ['run', '--on-device', '--virtual', '--snapshot', 'x.bin'], /run --on-device keeps no learner on the host to save; --snapshot does not apply/);
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-sock-'));
  const sock = join(dir, 'board.sock');
  const server = createServer(() => {});
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    await refused(t, ['run', '--on-device', '--port', sock], /run --on-device --port: .*board\.sock is a local socket \(a virtual bridge board's\); --on-device needs the serial device/);
    await refused(t, ['run', '--firmata', '--port', sock, '--no-progress'], /run --firmata --port: .*board\.sock is a local socket \(a virtual bridge board's\); --firmata reads the serial device/);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // an unset shell variable (--out "$DIR") would have meant the current folder, or nothing written without a word
  for (const args of [['demo', '--out', ''], ['run', '--virtual', '--snapshot', ''], ['sim', '--plot', ''], ['tune', '--out', ''], ['sim', '--task', 'csv', '--file', ' ']]) {
    await refused(t, args, /argument '\s*' is invalid\. Expected a path, got an empty one/);
  }
});

test.serial('a closed terminal (SIGHUP) stops run --virtual as Ctrl-C does: the board process goes with it and its folder is removed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neurostream-sighup-'));
  const snap = join(dir, 'learner.bin');
  try {
    let boards: string[] = [];
    const r = await runVirtualUntilSignalled(snap, false, (pid) => {
      boards = boardProcesses('ppid', pid);
      process.kill(pid, 'SIGHUP');
    });
    t.false(r.hung, r.stderr);
    t.is(r.code, 0, r.stderr);
    t.true((JSON.parse(r.stdout.trim()) as { samples: number }).samples > 0, 'the summary was printed');
    t.true(existsSync(snap), 'the snapshot was written');
    t.is(boards.length, 1, 'one board process was running');
    for (const b of boards) {
      const pid = b.split(' ')[0];
      t.false(existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('board/main'), `board ${b} outlived run`);
      const sock = /--listen (\S+)/.exec(b)?.[1];
      t.truthy(sock, b);
      t.false(existsSync(dirname(sock!)), `the board's folder ${dirname(sock!)} was left behind`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test.serial('closing a DeviceLearnerClient ends a stream that waits for predictions at once, its timer with it (a Ctrl-C of run --on-device mid-stream used to leave the timer holding the process)', async (t) => {
  if (!hasSocat()) {
    if (process.env.CI) t.fail('socat is needed for this test under CI');
    else t.log('skipped: socat is not installed');
    t.pass();
    return;
  }
  const pty = await createPtyPair();
  try {
    const client = await DeviceLearnerClient.open(pty.host);
    client.timeoutMs = 600_000; // a stream without predictions would wait this long
    const T = 64;
    const streaming = client.stream(new Int16Array(T * 2), new Int16Array(T), new Int16Array(T), 2, 1, 8);
    // a hang detector, not a timing bound: without the fix the stream waits for its 600 s timer
    let guardTimer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => (guardTimer = setTimeout(() => reject(new Error('the stream still waited 60 s after close()')), 60_000)));
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await client.close();
    const err = await t.throwsAsync(Promise.race([streaming, guard]));
    t.regex(err!.message, /was closed/);
    t.is(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore - 1, 'the stream timer was cleared');
    clearTimeout(guardTimer);
  } finally {
    await pty.close();
  }
});
