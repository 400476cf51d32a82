/**
 * Output paths of the commands (--out, --plot, --snapshot): checked before any work, so that a path that cannot be
 * written is refused at once (exit 2, naming the flag, the path and what to do) instead of after a whole search or
 * run; and created without Node's recursive mkdir, which on some paths never returns (Node 20 loops in a busy
 * `mkdir -p /proc/x`, deaf to SIGTERM, because mkdir there fails with ENOENT under a parent that exists).
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from './modelio.ts';

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
