// Loaded into ladingd with NODE_OPTIONS=--import (node refuses --cpu-prof there): profiles the whole
// process and writes a .cpuprofile into LADING_BENCH_PROFILE_DIR when it exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.LADING_BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  // In-process sessions answer synchronously, which is what lets the exit handler below work.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const file = path.join(dir, `ladingd-${new Date().toISOString().replace(/[:.]/g, '')}-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
