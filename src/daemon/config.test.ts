import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveConfig } from './config.js';
import { parseFlags } from './flags.js';
import { parseListenAddress } from './listen-address.js';

test('flags take dockerd forms: repeated -H, --flag=value, -D', () => {
  const flags = parseFlags(['-H', 'unix:///tmp/a.sock', '--host=tcp://127.0.0.1:2375', '--data-root', '/d', '-D']);
  assert.deepEqual(flags.hosts, ['unix:///tmp/a.sock', 'tcp://127.0.0.1:2375']);
  assert.equal(flags.dataRoot, '/d');
  assert.equal(flags.debug, true);
  assert.throws(() => parseFlags(['--bogus']), /unknown flag: --bogus/);
  assert.throws(() => parseFlags(['--data-root']), /flag needs an argument: --data-root/);
  assert.throws(() => parseFlags(['--log-level', 'loud']), /unable to parse logging level: loud/);
});

test('embedded defaults live under the XDG directories', () => {
  const env = { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' };
  const config = resolveConfig(parseFlags([]), env);
  assert.deepEqual(config.hosts, ['unix:///run/user/1000/lading/lading.sock']);
  assert.equal(config.dataRoot, '/home/u/.local/share/lading');
  assert.equal(config.logLevel, 'info');
  const noRuntime = resolveConfig(parseFlags([]), { HOME: '/home/u' });
  assert.deepEqual(noRuntime.hosts, ['unix:///home/u/.local/state/lading/lading.sock']);
});

test('daemon.json fills what flags leave unset and refuses unknown keys and conflicts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-config-'));
  const file = path.join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify({ 'data-root': '/srv/lading', 'log-level': 'warn', hosts: ['unix:///tmp/x.sock'] }));
  const config = resolveConfig(parseFlags(['--config-file', file]), { HOME: dir });
  assert.equal(config.dataRoot, '/srv/lading');
  assert.equal(config.logLevel, 'warn');
  assert.deepEqual(config.hosts, ['unix:///tmp/x.sock']);
  assert.throws(() => resolveConfig(parseFlags(['--config-file', file, '-H', 'unix:///tmp/y.sock']), { HOME: dir }), {
    message: 'the following directives are specified both as a flag and in the configuration file: hosts',
  });
  writeFileSync(file, JSON.stringify({ 'storage-driver': 'vfs' }));
  assert.throws(() => resolveConfig(parseFlags(['--config-file', file]), { HOME: dir }), /don't match any configuration option: storage-driver/);
});

test('listen addresses parse as dockerd parses -H', () => {
  assert.deepEqual(parseListenAddress('unix:///var/run/l.sock'), { kind: 'unix', path: '/var/run/l.sock' });
  assert.deepEqual(parseListenAddress('tcp://127.0.0.1:2376'), { kind: 'tcp', host: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseListenAddress('tcp://[::1]:2375'), { kind: 'tcp', host: '::1', port: 2375 });
  assert.throws(() => parseListenAddress('unix://relative.sock'), /must be absolute/);
  assert.throws(() => parseListenAddress('ftp://x'), /unsupported proto/);
});

test('--log-format text|json, or daemon.json log-format; text by default', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-config-'));
  assert.equal(resolveConfig(parseFlags([]), { HOME: dir }).logFormat, 'text');
  assert.equal(resolveConfig(parseFlags(['--log-format', 'json']), { HOME: dir }).logFormat, 'json');
  assert.equal(resolveConfig(parseFlags(['--log-format=text']), { HOME: dir }).logFormat, 'text');
  assert.throws(() => parseFlags(['--log-format', 'xml']), /unknown log format: xml/);
  const file = path.join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify({ 'log-format': 'json' }));
  assert.equal(resolveConfig(parseFlags(['--config-file', file]), { HOME: dir }).logFormat, 'json');
  writeFileSync(file, JSON.stringify({ 'log-format': 'yaml' }));
  assert.throws(() => resolveConfig(parseFlags(['--config-file', file]), { HOME: dir }), /unknown log format: yaml/);
});

test('--metadata and daemon.json metadata: SQLite by default, a postgres:// URL, never both, nothing else', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-config-'));
  const env = { HOME: dir };
  assert.deepEqual(resolveConfig(parseFlags([]), env).metadata, { kind: 'sqlite' });
  assert.deepEqual(resolveConfig(parseFlags(['--metadata', 'sqlite']), env).metadata, { kind: 'sqlite' });
  const url = 'postgres://lading:secret@db.example:5432/lading?search_path=replicas';
  assert.deepEqual(resolveConfig(parseFlags([`--metadata=${url}`]), env).metadata, { kind: 'postgres', url });
  const file = path.join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify({ metadata: 'postgresql://db.example/lading' }));
  assert.deepEqual(resolveConfig(parseFlags(['--config-file', file]), env).metadata, { kind: 'postgres', url: 'postgresql://db.example/lading' });
  assert.throws(() => resolveConfig(parseFlags(['--config-file', file, '--metadata', 'sqlite']), env), {
    message: 'the following directives are specified both as a flag and in the configuration file: metadata',
  });
  for (const bad of ['mysql://db/lading', 'postgres://db.example', '/var/lib/lading.db', 'postgres://u:secret@/x']) {
    assert.throws(() => resolveConfig(parseFlags(['--metadata', bad]), env), (err: Error) => {
      assert.equal(err.message, 'invalid metadata location: want "sqlite" or postgres://user:password@host:port/database');
      return true;
    });
  }
});

test('--lease-ttl and daemon.json lease-ttl: a Go duration or seconds, 30s by default', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-config-'));
  const env = { HOME: dir };
  assert.equal(resolveConfig(parseFlags([]), env).leaseTtlMs, 30_000);
  assert.equal(resolveConfig(parseFlags(['--lease-ttl', '2s']), env).leaseTtlMs, 2_000);
  assert.equal(resolveConfig(parseFlags(['--lease-ttl=1500ms']), env).leaseTtlMs, 1_500);
  const file = path.join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify({ 'lease-ttl': '1m' }));
  assert.equal(resolveConfig(parseFlags(['--config-file', file]), env).leaseTtlMs, 60_000);
  assert.throws(() => resolveConfig(parseFlags(['--lease-ttl', 'soon']), env), /invalid lease-ttl/);
});

test('--gc-interval and daemon.json gc-interval: a Go duration; by default half the lease TTL, 1s to 15s', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-config-'));
  const env = { HOME: dir };
  assert.equal(resolveConfig(parseFlags([]), env).gcIntervalMs, 15_000);
  assert.equal(resolveConfig(parseFlags(['--lease-ttl', '10s']), env).gcIntervalMs, 5_000);
  assert.equal(resolveConfig(parseFlags(['--lease-ttl', '1s']), env).gcIntervalMs, 1_000);
  assert.equal(resolveConfig(parseFlags(['--gc-interval', '3s']), env).gcIntervalMs, 3_000);
  const file = path.join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify({ 'gc-interval': '2m' }));
  assert.equal(resolveConfig(parseFlags(['--config-file', file]), env).gcIntervalMs, 120_000);
  assert.throws(() => resolveConfig(parseFlags(['--gc-interval', 'often']), env), /invalid gc-interval/);
});
