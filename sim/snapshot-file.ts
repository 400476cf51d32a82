/**
 * Snapshot files: atomic writes (temporary file in the same directory, fsync, rename) so a crash never leaves a
 * half-written snapshot under the real name. The bytes come from runtime/snapshot.ts (saveSnapshot).
 * A process killed during a save (kill -9) leaves its `.<name>.<pid>.tmp` behind; the first save to the same name by
 * a later process removes the temporaries of processes that no longer exist.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const swept = new Set<string>();

/** Whether a process with this pid exists (EPERM: it exists but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.<name>.<pid>.tmp` files next to path whose writer process is gone; returns how many. */
export function removeStaleTemporaries(path: string): number {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -'.tmp'.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // removed by someone else meanwhile
    }
  }
  return removed;
}

export function saveSnapshotFile(path: string, bytes: Uint8Array): void {
  if (!swept.has(path)) {
    swept.add(path);
    removeStaleTemporaries(path);
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function loadSnapshotFile(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
