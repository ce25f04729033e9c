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

test('registry defaults: loopback insecure, no mirrors, 3 downloads, 5 uploads, certs under XDG config, 30s for response headers', () => {
  const config = resolveConfig(parseFlags([]), { HOME: '/home/u' });
  assert.deepEqual(config.registry, {
    insecureRegistries: [],
    mirrors: [],
    maxConcurrentDownloads: 3,
    maxConcurrentUploads: 5,
    certsDir: '/home/u/.config/lading/certs.d',
    responseTimeoutMs: 30_000,
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
    responseTimeoutMs: 30_000,
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

test('--registry-response-timeout and registry-response-timeout: Go durations or seconds, 0 for never', () => {
  const at = (args: string[]): number | undefined => resolveConfig(parseFlags(args), { HOME: '/h' }).registry?.responseTimeoutMs;
  assert.equal(at(['--registry-response-timeout', '2s']), 2_000);
  assert.equal(at(['--registry-response-timeout=1m30s']), 90_000);
  assert.equal(at(['--registry-response-timeout', '0']), 0);
  assert.throws(() => parseFlags(['--registry-response-timeout', 'soon']), /invalid argument "soon" for "--registry-response-timeout" flag: time: invalid duration "soon"/);
  const { file, dir } = daemonJson({ 'registry-response-timeout': '45s' });
  assert.equal(resolveConfig(parseFlags(['--config-file', file]), { HOME: dir }).registry?.responseTimeoutMs, 45_000);
  assert.equal(resolveConfig(parseFlags(['--config-file', daemonJson({ 'registry-response-timeout': 10 }).file]), { HOME: dir }).registry?.responseTimeoutMs, 10_000);
  assert.throws(
    () => resolveConfig(parseFlags(['--config-file', file, '--registry-response-timeout', '2s']), { HOME: dir }),
    /registry-response-timeout: \(from flag: 2s, from file: 45s\)/,
  );
  assert.throws(() => resolveConfig(parseFlags(['--config-file', daemonJson({ 'registry-response-timeout': true }).file]), { HOME: dir }), /registry-response-timeout must be a duration/);
});
