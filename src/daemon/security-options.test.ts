import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../util/logger.js';
import { resolveConfig } from './config.js';
import { parseFlags, USAGE } from './flags.js';
import { parseListenAddress } from './listen-address.js';
import { DEFAULT_SECURITY_CONFIG } from './security-options.js';
import { lookupGroupId, socketGroupId } from './socket-group.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lading-security-'));
const env = { HOME: dir };

function withFile(json: unknown, argv: string[] = []): ReturnType<typeof resolveConfig> {
  const file = path.join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify(json));
  return resolveConfig(parseFlags(['--config-file', file, ...argv]), env);
}

test('defaults: group docker, no TLS, 64 GiB layers, ratio 1000, 60 s timeouts', () => {
  const { security } = resolveConfig(parseFlags([]), env);
  assert.deepEqual(security, DEFAULT_SECURITY_CONFIG);
  assert.equal(security?.maxUnpackedLayerSize, 64 * 1024 ** 3);
  assert.equal(security?.tls, undefined);
  for (const flag of ['--group', '--tlsverify', '--tlscacert', '--max-unpacked-layer-size', '--max-decompression-ratio', '--upload-idle-timeout', '--request-header-timeout']) {
    assert.ok(USAGE.includes(flag), `--help lists ${flag}`);
  }
});

test('TLS follows dockerd: --tlsverify implies --tls, --tls verifies unless --tlsverify=false', () => {
  const certs = (extra: string[]): string[] => [...extra, '--tlscacert', '/c/ca.pem', '--tlscert', '/c/cert.pem', '--tlskey', '/c/key.pem'];
  const verify = resolveConfig(parseFlags(certs(['--tlsverify'])), env).security?.tls;
  assert.deepEqual(verify, { verify: true, caFile: '/c/ca.pem', certFile: '/c/cert.pem', keyFile: '/c/key.pem' });
  assert.equal(resolveConfig(parseFlags(certs(['--tls'])), env).security?.tls?.verify, true);
  assert.equal(resolveConfig(parseFlags(certs(['--tls', '--tlsverify=false'])), env).security?.tls?.verify, false);
  assert.equal(resolveConfig(parseFlags(certs(['--tlsverify=false'])), env).security?.tls?.verify, false, 'any explicit tlsverify turns TLS on');
  assert.equal(resolveConfig(parseFlags(certs(['--tls=false'])), env).security?.tls, undefined);
  assert.throws(() => parseFlags(['--tls=maybe']), {
    message: 'invalid argument "maybe" for "--tls" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
  });
  // Default paths: $DOCKER_CERT_PATH (or ~/.docker); a missing default cert or key is left empty.
  const defaults = resolveConfig(parseFlags(['--tlsverify']), { HOME: dir, DOCKER_CERT_PATH: '/certs' }).security?.tls;
  assert.deepEqual(defaults, { verify: true, caFile: '/certs/ca.pem', certFile: '', keyFile: '' });
  assert.equal(resolveConfig(parseFlags(['--tlsverify']), env).security?.tls?.caFile, path.join(dir, '.docker', 'ca.pem'));
});

test('daemon.json keys, and conflicts with flags', () => {
  const config = withFile({
    group: 'staff',
    tls: true,
    tlsverify: true,
    tlscacert: '/j/ca.pem',
    tlscert: '/j/cert.pem',
    tlskey: '/j/key.pem',
    'max-unpacked-layer-size': '2GiB',
    'max-decompression-ratio': 50,
    'upload-idle-timeout': '90s',
    'request-header-timeout': 30,
  });
  assert.equal(config.security?.socketGroup, 'staff');
  assert.equal(config.security?.socketGroupExplicit, true);
  assert.deepEqual(config.security?.tls, { verify: true, caFile: '/j/ca.pem', certFile: '/j/cert.pem', keyFile: '/j/key.pem' });
  assert.equal(config.security?.maxUnpackedLayerSize, 2 * 1024 ** 3);
  assert.equal(config.security?.maxDecompressionRatio, 50);
  assert.equal(config.security?.uploadIdleTimeoutMs, 90_000);
  assert.equal(config.security?.requestHeaderTimeoutMs, 30_000);
  assert.throws(() => withFile({ tlsverify: true, group: 'x' }, ['--tlsverify', '-G', 'y']), {
    message: 'the following directives are specified both as a flag and in the configuration file: group, tlsverify',
  });
  assert.throws(() => withFile({ tls: 'yes' }), /tls: must be true or false/);
  assert.throws(() => withFile({ 'max-unpacked-layer-size': 'lots' }), /invalid size: "lots"/);
});

test('size and duration flags as dockerd reads them', () => {
  const flags = parseFlags(['--max-unpacked-layer-size=1g', '--max-decompression-ratio', '0', '--upload-idle-timeout', '5s']);
  assert.deepEqual(flags.security, { maxUnpackedLayerSize: 1024 ** 3, maxDecompressionRatio: 0, uploadIdleTimeoutMs: 5000 });
  assert.throws(() => parseFlags(['--max-decompression-ratio', 'x']), /invalid argument "x" for "--max-decompression-ratio" flag/);
  assert.throws(() => parseFlags(['--tlscacert']), /flag needs an argument: --tlscacert/);
});

test('TCP addresses default to port 2376 with TLS, 2375 without', () => {
  assert.deepEqual(parseListenAddress('tcp://127.0.0.1', { tls: true }), { kind: 'tcp', host: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseListenAddress('tcp://127.0.0.1'), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
});

test('socket groups: names from the group file, numbers as given, the default group may be missing', () => {
  const groupFile = path.join(dir, 'group');
  writeFileSync(groupFile, 'root:x:0:\ndocker:x:998:alice\nstaff:x:50:\n');
  assert.equal(lookupGroupId('docker', groupFile), 998);
  assert.equal(lookupGroupId('1234', groupFile), 1234);
  assert.equal(lookupGroupId('nobody-here', groupFile), undefined);
  const lines: string[] = [];
  const log = createLogger('warn', (line) => lines.push(line));
  assert.equal(socketGroupId('docker', false, log, groupFile), 998);
  const noDocker = path.join(dir, 'group-without-docker');
  writeFileSync(noDocker, 'root:x:0:\n');
  assert.equal(socketGroupId('docker', false, log, noDocker), process.getgid?.());
  assert.match(lines.join(''), /could not change group of the API socket to docker: group docker not found/);
  assert.throws(() => socketGroupId('staff', true, log, noDocker), { message: 'group staff not found' });
  assert.equal(socketGroupId('', true, log, noDocker), process.getgid?.());
});
