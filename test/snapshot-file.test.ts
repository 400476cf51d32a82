import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveSnapshotFile } from '../sim/snapshot-file.ts';

test('a save removes the temporaries that killed writers left behind, and keeps those of live ones', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-stale-'));
  const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its pid names no process now
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, `.a.snap.${dead}.tmp`), 'torn');
    writeFileSync(join(dir, `.a.snap.${live.pid}.tmp`), 'being written');
    writeFileSync(join(dir, `.b.snap.${dead}.tmp`), 'another name: not ours to judge');
    saveSnapshotFile(join(dir, 'a.snap'), new Uint8Array([1, 2, 3]));
    t.deepEqual(readdirSync(dir).sort(), [`.a.snap.${live.pid}.tmp`, `.b.snap.${dead}.tmp`, 'a.snap'].sort());
  } finally {
    live.kill();
  }
});
