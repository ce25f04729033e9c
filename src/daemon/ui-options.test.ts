import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.js';
import { parseFlags } from './flags.js';
import { parseUiAddress, resolveUi } from './ui-options.js';

describe('--ui and daemon.json ui', () => {
  it('serves on loopback by default, with a token unless turned off', () => {
    assert.deepEqual(parseUiAddress('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseUiAddress('[::1]:0'), { host: '::1', port: 0 });
    const flags = parseFlags(['--ui', '127.0.0.1:9000']);
    assert.deepEqual(resolveUi(flags.ui, {}, undefined, false), { host: '127.0.0.1', port: 9000, token: true });
    assert.deepEqual(resolveUi(parseFlags(['--ui=9000', '--ui-token=false']).ui, {}, undefined, false), { host: '127.0.0.1', port: 9000, token: false });
    assert.deepEqual(resolveUi({}, { ui: '9001', 'ui-token': false }, 'daemon.json', false), { host: '127.0.0.1', port: 9001, token: false });
    assert.equal(resolveUi({}, {}, undefined, false), undefined, 'off by default');
  });

  it('refuses an address beyond loopback without TLS, a key set twice, bad values', () => {
    assert.throws(() => resolveUi({ ui: '0.0.0.0:9000' }, {}, undefined, false), (e: unknown) => e instanceof InvalidArgumentError && /without TLS/.test(e.message));
    assert.deepEqual(resolveUi({ ui: '0.0.0.0:9000' }, {}, undefined, true), { host: '0.0.0.0', port: 9000, token: true });
    assert.throws(() => resolveUi({ ui: '9000' }, { ui: '9001' }, 'daemon.json', false), /specified both as a flag and in the configuration file: ui/);
    assert.throws(() => parseUiAddress('localhost:http'), /want \[host:\]port/);
    assert.throws(() => parseFlags(['--ui-token=maybe']), /ParseBool/);
  });
});
