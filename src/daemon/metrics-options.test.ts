import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkMetricsAccess, parseMetricsAddress, resolveMetricsAddress } from './metrics-options.js';

describe('--metrics-addr', () => {
  it('reads host:port as Go splits it', () => {
    assert.deepEqual(parseMetricsAddress('127.0.0.1:9323'), { host: '127.0.0.1', port: 9323 });
    assert.deepEqual(parseMetricsAddress('[::1]:9323'), { host: '::1', port: 9323 });
    assert.deepEqual(parseMetricsAddress('localhost:1'), { host: 'localhost', port: 1 });
    assert.deepEqual(parseMetricsAddress(':9323'), { host: '', port: 9323 });
  });

  it('refuses an address without a port, a bad port, a bare IPv6 address', () => {
    assert.throws(() => parseMetricsAddress('127.0.0.1'), /invalid metrics address "127.0.0.1": missing port in address/);
    assert.throws(() => parseMetricsAddress('127.0.0.1:'), /invalid port ""/);
    assert.throws(() => parseMetricsAddress('127.0.0.1:http'), /invalid port "http"/);
    assert.throws(() => parseMetricsAddress('127.0.0.1:70000'), /invalid port "70000"/);
    assert.throws(() => parseMetricsAddress('::1:9323'), /too many colons/);
    assert.throws(() => parseMetricsAddress('tcp://127.0.0.1:9323'), /too many colons/);
  });

  it('takes the flag or daemon.json, not both', () => {
    assert.equal(resolveMetricsAddress(undefined, {}, undefined), undefined);
    assert.deepEqual(resolveMetricsAddress(undefined, { 'metrics-addr': '127.0.0.1:9400' }, 'd.json'), { host: '127.0.0.1', port: 9400 });
    assert.throws(
      () => resolveMetricsAddress('127.0.0.1:9401', { 'metrics-addr': '127.0.0.1:9400' }, 'd.json'),
      /specified both as a flag and in the configuration file: metrics-addr/,
    );
    assert.throws(() => resolveMetricsAddress(undefined, { 'metrics-addr': 9400 }, 'd.json'), /metrics-addr must be a string/);
  });

  it('serves beyond loopback only with TLS', () => {
    assert.doesNotThrow(() => checkMetricsAccess({ host: '127.0.0.1', port: 9323 }, false));
    assert.doesNotThrow(() => checkMetricsAccess({ host: '::1', port: 9323 }, false));
    assert.throws(() => checkMetricsAccess({ host: '0.0.0.0', port: 9323 }, false), /refusing to serve metrics on 0.0.0.0:9323 without TLS/);
    assert.throws(() => checkMetricsAccess({ host: '', port: 9323 }, false), /refusing to serve metrics on :9323 without TLS/);
    assert.doesNotThrow(() => checkMetricsAccess({ host: '0.0.0.0', port: 9323 }, true));
  });
});
