import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from './config.js';
import { parseFlags } from './flags.js';

function daemonJson(doc: unknown): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-regopts-'));
  const file = path.join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify(doc));
  return { file, dir };
}

test('registry defaults: loopback insecure, no mirrors, 3 downloads, 5 uploads, certs under XDG config', () => {
  const config = resolveConfig(parseFlags([]), { HOME: '/home/u' });
  assert.deepEqual(config.registry, {
    insecureRegistries: [],
    mirrors: [],
    maxConcurrentDownloads: 3,
    maxConcurrentUploads: 5,
    certsDir: '/home/u/.config/lading/certs.d',
  });
  assert.equal(resolveConfig(parseFlags([]), { HOME: '/h', XDG_CONFIG_HOME: '/cfg' }).registry?.certsDir, '/cfg/lading/certs.d');
});

test('registry flags: repeatable lists, --flag=value, counts', () => {
  const flags = parseFlags([
    '--insecure-registry', '10.1.0.0/16',
    '--insecure-registry=registry.lab:5000',
    '--registry-mirror', 'https://mirror.lab',
    '--max-concurrent-downloads=6',
    '--max-concurrent-uploads', '2',
    '--registry-certs-dir', '/etc/lading/certs.d',
  ]);
  const config = resolveConfig(flags, { HOME: '/home/u' });
  assert.deepEqual(config.registry, {
    insecureRegistries: ['10.1.0.0/16', 'registry.lab:5000'],
    mirrors: ['https://mirror.lab'],
    maxConcurrentDownloads: 6,
    maxConcurrentUploads: 2,
    certsDir: '/etc/lading/certs.d',
  });
  assert.throws(() => parseFlags(['--max-concurrent-downloads', 'many']), /invalid argument "many" for "--max-concurrent-downloads" flag/);
  assert.throws(() => parseFlags(['--registry-mirror']), /flag needs an argument: --registry-mirror/);
});

test('daemon.json keys, dockerd\'s conflict and validation texts', () => {
  const { file, dir } = daemonJson({
    'insecure-registries': ['registry.lab:5000'],
    'registry-mirrors': ['http://127.0.0.1:5001'],
    'max-concurrent-downloads': 1,
  });
  const config = resolveConfig(parseFlags(['--config-file', file]), { HOME: dir });
  assert.deepEqual(config.registry?.insecureRegistries, ['registry.lab:5000']);
  assert.deepEqual(config.registry?.mirrors, ['http://127.0.0.1:5001']);
  assert.equal(config.registry?.maxConcurrentDownloads, 1);
  assert.throws(
    () => resolveConfig(parseFlags(['--config-file', file, '--registry-mirror', 'https://m.lab']), { HOME: dir }),
    /the following directives are specified both as a flag and in the configuration file: registry-mirrors: \(from flag: \[https:\/\/m.lab\], from file: \[http:\/\/127.0.0.1:5001\]\)/,
  );
  assert.throws(() => resolveConfig(parseFlags(['--registry-mirror', 'mirror.lab']), { HOME: dir }), /invalid mirror: no scheme specified for "mirror.lab"/);
  assert.throws(() => resolveConfig(parseFlags(['--insecure-registry', 'ftp://x']), { HOME: dir }), /insecure registry ftp:\/\/x should not contain ':\/\/'/);
  assert.throws(() => resolveConfig(parseFlags(['--max-concurrent-downloads', '-1']), { HOME: dir }), /invalid max concurrent downloads: -1/);
  const bad = daemonJson({ 'registry-mirrors': 'https://m.lab' });
  assert.throws(() => resolveConfig(parseFlags(['--config-file', bad.file]), { HOME: bad.dir }), /registry-mirrors must be a list of strings/);
});
