import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  convertToHostname,
  credentialsHost,
  decodeAuthConfig,
  decodeAuthConfigLenient,
  encodeAuthConfig,
} from './auth-config.js';

const b64url = (s: string): string => {
  const b = Buffer.from(s).toString('base64url');
  return b.padEnd(Math.ceil(b.length / 4) * 4, '=');
};

test('decodes what the docker CLI sends', () => {
  const header = encodeAuthConfig({ username: 'lab', password: 'p@ss/+?', serveraddress: '127.0.0.1:5000' });
  assert.deepEqual(decodeAuthConfig(header), { username: 'lab', password: 'p@ss/+?', serveraddress: '127.0.0.1:5000' });
});

test('identity and registry tokens; field names match case-insensitively; unknown keys ignored', () => {
  const header = b64url('{"IdentityToken":"refresh","registrytoken":"bearer","extra":1}');
  assert.deepEqual(decodeAuthConfig(header), { identitytoken: 'refresh', registrytoken: 'bearer' });
});

test('an empty header or a JSON null is no credentials', () => {
  assert.deepEqual(decodeAuthConfig(undefined), {});
  assert.deepEqual(decodeAuthConfig(''), {});
  assert.deepEqual(decodeAuthConfig(b64url('null')), {});
});

test('what follows the first JSON value is ignored, as Go json.Decoder does', () => {
  assert.deepEqual(decodeAuthConfig(b64url('{"username":"a"} trailing')), { username: 'a' });
});

test('invalid headers get Docker\'s error texts', () => {
  assert.throws(() => decodeAuthConfig('not base64!'), /^InvalidArgumentError: invalid X-Registry-Auth header: illegal base64 data at input byte 3$/);
  // The standard alphabet's + and / are not base64url.
  assert.throws(() => decodeAuthConfig('ab+/'), /illegal base64 data at input byte 2$/);
  assert.throws(() => decodeAuthConfig('eyJ1c2VybmFtZSI6ImEifQ'), /unexpected EOF$/);
  assert.throws(() => decodeAuthConfig(b64url('{"username":1}')), /json: cannot unmarshal number into Go struct field AuthConfig.username of type string/);
  assert.throws(() => decodeAuthConfig(b64url('[1]')), /cannot unmarshal array into Go value of type registry.AuthConfig/);
  assert.throws(() => decodeAuthConfig(b64url('{"username":')), /invalid X-Registry-Auth header: unexpected EOF$/);
});

test('the lenient form turns undecodable headers into no credentials', () => {
  assert.deepEqual(decodeAuthConfigLenient('%%%'), {});
});

test('server addresses become hosts; Hub names mean registry-1.docker.io', () => {
  assert.equal(convertToHostname('https://index.docker.io/v1/'), 'index.docker.io');
  assert.equal(convertToHostname('http://127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(convertToHostname('localhost:5000/path'), 'localhost:5000');
  assert.equal(credentialsHost({ serveraddress: 'https://index.docker.io/v1/' }, 'docker.io'), 'registry-1.docker.io');
  assert.equal(credentialsHost({}, 'docker.io'), 'registry-1.docker.io');
  assert.equal(credentialsHost({}, '127.0.0.1:5000'), '127.0.0.1:5000');
});
