import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { RegistryConfig, splitHostPort, validateMirror } from './registry-config.js';

test('loopback is insecure by default and reported as Docker does', async () => {
  const c = new RegistryConfig();
  const sc = c.serviceConfig();
  assert.deepEqual(sc.insecureRegistryCIDRs, ['::1/128', '127.0.0.0/8']);
  assert.deepEqual([...sc.indexConfigs.keys()], ['docker.io']);
  assert.equal(await c.isInsecure('127.0.0.1:5000'), true);
  assert.equal(await c.isInsecure('[::1]:5000'), true);
  assert.equal(await c.isInsecure('localhost:5000'), true);
  assert.equal(await c.isInsecure('192.0.2.1:5000'), false);
});

test('CIDRs are masked and deduplicated; host:port entries become index configs', async () => {
  const c = new RegistryConfig({ insecureRegistries: ['192.0.2.7/24', '192.0.2.0/24', 'registry.lab:5000', 'http://other.lab'] });
  const sc = c.serviceConfig();
  assert.deepEqual(sc.insecureRegistryCIDRs, ['192.0.2.0/24', '::1/128', '127.0.0.0/8']);
  assert.deepEqual(sc.indexConfigs.get('registry.lab:5000'), { Name: 'registry.lab:5000', Mirrors: [], Secure: false, Official: false });
  assert.ok(sc.indexConfigs.has('other.lab'));
  assert.equal(await c.isInsecure('192.0.2.200:443'), true);
  assert.equal(await c.isInsecure('registry.lab:5000'), true);
  assert.equal(await c.isInsecure('registry.lab:5001'), false);
});

test('invalid insecure registries and mirrors are refused with Docker\'s texts', () => {
  assert.throws(() => new RegistryConfig({ insecureRegistries: ['ftp://x'] }), /insecure registry ftp:\/\/x should not contain '::\/\/'|should not contain ':\/\/'/);
  assert.throws(() => new RegistryConfig({ insecureRegistries: ['-bad'] }), /Cannot begin or end with a hyphen/);
  assert.throws(() => validateMirror('mirror.lab'), /invalid mirror: no scheme specified for "mirror.lab"/);
  assert.throws(() => validateMirror('ftp://mirror.lab'), /unsupported scheme "ftp"/);
  assert.throws(() => validateMirror('https://u:p@mirror.lab'), /username\/password not allowed/);
  assert.equal(validateMirror('https://mirror.lab'), 'https://mirror.lab/');
});

test('Docker Hub: mirrors first with ?ns, then registry-1.docker.io; other registries as named', async () => {
  const c = new RegistryConfig({ mirrors: ['http://127.0.0.1:5001', 'https://mirror.lab/cache/'] });
  const hub = await c.endpoints('docker.io');
  assert.deepEqual(hub.map((e) => `${e.scheme}://${e.host}${e.path} ns=${e.namespace ?? ''}`), [
    'http://127.0.0.1:5001/v2 ns=docker.io',
    'https://mirror.lab/cache/v2 ns=docker.io',
    'https://registry-1.docker.io/v2 ns=',
  ]);
  assert.equal(hub[0]?.tls.verify, false);
  assert.equal(hub[2]?.tls.verify, true);
  const local = await c.endpoints('127.0.0.1:5000');
  assert.deepEqual(local.map((e) => [e.scheme, e.host, e.tls.verify]), [['https', '127.0.0.1:5000', false]]);
  assert.equal((await c.endpoints('example.com:80'))[0]?.scheme, 'http');
  assert.deepEqual(c.serviceConfig().mirrors, ['http://127.0.0.1:5001/', 'https://mirror.lab/cache/']);
});

test('CA files come from <certs dir>/<host:port>', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-certs-'));
  mkdirSync(path.join(dir, 'registry.lab:5000'));
  writeFileSync(path.join(dir, 'registry.lab:5000', 'ca.crt'), 'PEM');
  const c = new RegistryConfig({ certsDir: dir });
  const [e] = await c.endpoints('registry.lab:5000');
  assert.deepEqual(e?.tls.ca.map(String), ['PEM']);
});

test('splitHostPort', () => {
  assert.deepEqual(splitHostPort('[::1]:5000'), { host: '::1', port: '5000' });
  assert.deepEqual(splitHostPort('a.b:1'), { host: 'a.b', port: '1' });
  assert.deepEqual(splitHostPort('a.b'), { host: 'a.b', port: '' });
});
