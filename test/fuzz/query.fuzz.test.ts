// Property tests of the small parsers requests and flags go through: Go's JSON syntax checker agrees
// with JSON.parse on what is valid (and never throws), platform= and boolean query values, -H
// addresses, sizes and durations fail only with InvalidArgumentError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { boolValue, boolValueOrDefault, decodePlatform } from '../../src/api/query.js';
import { parseListenAddress } from '../../src/daemon/listen-address.js';
import { parseByteSize } from '../../src/util/go-size.js';
import { parseDurationMs } from '../../src/util/go-duration.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { hostPreferenceMatcher, onlyMatcher, strictMatcher } from '../../src/oci/platform.js';
import { goJsonSyntaxError, jsonDepthExceeded } from '../../src/util/go-json-syntax.js';
import { corpusStrings, fuzzParams } from './fuzz-support.js';

const jsonish = fc.string({
  unit: fc.constantFrom(...'{}[]:,"\\ \t\n\r0123456789-+.eEtrufalsn/bx'.split(''), '\u0000', '\u001f', 'é', '\u2028', '\ud83d\ude00', '\ud800'),
  maxLength: 40,
});
/** Valid JSON with a few characters changed, inserted or removed. */
const nearJson = fc
  .tuple(fc.json({ maxDepth: 4 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom('', '{', '}', '[', ']', ',', ':', '"', '\\', '0', '-', 'e', '.', ' ', 'n', 'u', '\u0001')), { maxLength: 3 }))
  .map(([text, edits]) => {
    let out = text;
    for (const [at, ch] of edits) {
      const i = out.length === 0 ? 0 : at % out.length;
      out = out.slice(0, i) + ch + out.slice(i + (at % 2));
    }
    return out;
  });
const anyJsonText = fc.oneof(fc.json({ maxDepth: 5 }), nearJson, jsonish);

function onlyInvalidArgument<T>(fn: () => T, what: string): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return undefined;
    throw new Error(`${what} threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
  }
}

function jsonAgreement(text: string): void {
  let parsed = true;
  try {
    JSON.parse(text);
  } catch {
    parsed = false;
  }
  const goError = goJsonSyntaxError(text);
  if (jsonDepthExceeded(text)) {
    // Go refuses past 10000 levels; JSON.parse does not mind.
    assert.ok(goError !== undefined, 'too deep for Go');
    return;
  }
  assert.equal(goError === undefined, parsed, `${JSON.stringify(text).slice(0, 200)}: Go says ${goError ?? 'valid'}, JSON.parse says ${parsed ? 'valid' : 'invalid'}`);
  if (goError !== undefined) {
    assert.match(goError, /^(unexpected end of JSON input|invalid character .+)$/s);
  }
}

function platformCheck(text: string): void {
  const platform = onlyInvalidArgument(() => decodePlatform(text), `decodePlatform(${JSON.stringify(text).slice(0, 100)})`);
  if (!platform) return;
  assert.equal(typeof platform.os, 'string');
  assert.equal(typeof platform.architecture, 'string');
  assert.ok(platform.os !== '' && platform.architecture !== '');
  for (const key of ['variant', 'os.version'] as const) {
    if (platform[key] !== undefined) assert.equal(typeof platform[key], 'string');
  }
  if (platform['os.features'] !== undefined) assert.ok(platform['os.features'].every((f) => typeof f === 'string'));
  // What the routes then build from it must be quick whatever the request said.
  const started = Date.now();
  for (const matcher of [onlyMatcher(platform), strictMatcher(platform), hostPreferenceMatcher()]) {
    matcher.match(platform);
    matcher.less(platform, { os: 'linux', architecture: 'amd64' });
  }
  assert.ok(Date.now() - started < 1000, `matchers for ${JSON.stringify(platform).slice(0, 100)} took ${Date.now() - started} ms`);
}

function sizeAndDurationCheck(value: string): void {
  const size = onlyInvalidArgument(() => parseByteSize(value), `parseByteSize(${JSON.stringify(value)})`);
  if (size !== undefined) assert.ok(Number.isSafeInteger(size) && size >= 0, `${value} -> ${size}`);
  const ms = onlyInvalidArgument(() => parseDurationMs(value), `parseDurationMs(${JSON.stringify(value)})`);
  // Node's timers take at most 2^31-1 ms; a longer one fires at once.
  if (ms !== undefined) assert.ok(Number.isSafeInteger(ms) && ms >= 0 && ms <= 2 ** 31 - 1, `${value} -> ${ms}`);
}

describe('query and JSON parser properties', () => {
  it('replays the corpus', () => {
    for (const { name, value } of corpusStrings('durations')) {
      assert.doesNotThrow(() => sizeAndDurationCheck(value), name);
    }
    for (const { name, value } of corpusStrings('platform')) {
      assert.doesNotThrow(() => platformCheck(value), name);
    }
    for (const { name, value } of corpusStrings('go-json')) {
      assert.doesNotThrow(() => jsonAgreement(value), name);
      assert.doesNotThrow(() => platformCheck(value), name);
    }
  });

  it("Go's JSON syntax checker agrees with JSON.parse and never throws", () => {
    fc.assert(fc.property(anyJsonText, jsonAgreement), fuzzParams(5000));
  });

  it('platform= decodes to os and architecture or fails with InvalidArgumentError', () => {
    const platformish = fc.oneof(
      anyJsonText,
      fc.record(
        {
          os: fc.oneof(fc.string(), fc.jsonValue(), fc.constantFrom('linux', 'windows')),
          architecture: fc.oneof(fc.string(), fc.jsonValue(), fc.constantFrom('amd64', 'arm', 'arm64', 'x86_64', 'aarch64')),
          variant: fc.oneof(fc.jsonValue(), fc.bigInt({ min: 0n, max: 10n ** 12n }).map((n) => `v${n}`)),
          'os.version': fc.jsonValue(),
          'os.features': fc.jsonValue(),
        },
        { requiredKeys: [] },
      ).map((o) => JSON.stringify(o)),
    );
    fc.assert(fc.property(platformish, platformCheck), fuzzParams(5000));
  });

  it('boolean query values never throw', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.string(), fc.boolean(), (value, key, fallback) => {
        assert.equal(typeof boolValue(value), 'boolean');
        const query = new URLSearchParams(value === null ? '' : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
        assert.equal(typeof boolValueOrDefault(query, key, fallback), 'boolean');
      }),
      fuzzParams(2000),
    );
  });

  it('-H addresses, sizes and durations fail only with InvalidArgumentError', () => {
    const hostish = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom('unix://', 'tcp://', '', 'fd://', 'ssh://'), fc.string({ unit: fc.constantFrom(...'/ab1:[]0.9%'.split('')) })).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(hostish, fc.boolean(), (value, tls) => {
        const address = onlyInvalidArgument(() => parseListenAddress(value, { tls }), `parseListenAddress(${JSON.stringify(value)})`);
        if (address?.kind === 'tcp') assert.ok(Number.isInteger(address.port) && address.port >= 1 && address.port <= 65535, `port ${address.port}`);
        if (address?.kind === 'unix') assert.ok(address.path.startsWith('/'));
      }),
      fuzzParams(3000),
    );
    const sizeish = fc.oneof(
      fc.string(),
      fc.stringMatching(/^[0-9.]{1,30} ?[kKmMgGtTpPx]?[iI]?[bB]?$/),
      fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 90n }), fc.constantFrom('', 's', 'ms', 'm', 'h', 'GiB', 'k', 'p', '1m30s')).map(([n, unit]) => `${n}${unit}`),
    );
    fc.assert(fc.property(sizeish, sizeAndDurationCheck), fuzzParams(3000));
  });
});
