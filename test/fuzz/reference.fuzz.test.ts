// Property tests of the reference parser: it fails only with InvalidArgumentError, what it prints
// parses back to the same reference, and the familiar form round-trips.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  familiarString,
  parseAnyReference,
  parseNamed,
  parseNormalizedNamed,
  referenceString,
  tagNameOnly,
  withDigest,
  withTag,
  type Reference,
} from '../../src/reference/reference.js';
import { corpusStrings, fuzzParams } from './fuzz-support.js';

const HEX64 = 'e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';

const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,2}$/);
const domain = fc.oneof(
  fc.constant(''),
  fc.constantFrom('docker.io', 'index.docker.io', 'localhost', 'localhost:5000', 'example.com', 'Example.COM:443', '[::1]:5000', '[fe80::1]', 'a_b.com', 'my-registry.local', 'DOCKER.io'),
  fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?(?:\.[a-z0-9]{1,5}){0,2}(?::[0-9]{1,5})?$/),
);
const repoPath = fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const tag = fc.oneof(fc.constant(''), fc.stringMatching(/^[\w][\w.-]{0,20}$/), fc.constantFrom('latest', 'x'.repeat(128), 'x'.repeat(129)));
const digest = fc.oneof(
  fc.constant(''),
  fc.constantFrom(`sha256:${HEX64}`, `sha384:${'ab'.repeat(48)}`, `sha512:${'f'.repeat(128)}`, 'sha256:abcd', `SHA256:${HEX64}`, `md5:${'0'.repeat(32)}`, `sha256:${HEX64.toUpperCase()}`),
);
const structured = fc
  .tuple(domain, repoPath, tag, digest)
  .map(([d, p, t, g]) => `${d ? `${d}/` : ''}${p}${t ? `:${t}` : ''}${g ? `@${g}` : ''}`);
const noise = fc.string({
  unit: fc.constantFrom(...'abz09AZ._-/:@+[]% '.split(''), '\u0130', '\u0131', 'é', '\u212a', '\0', '\uffff', '\ud800'),
  maxLength: 60,
});
/** A structured reference with a few characters changed: near misses are where parsers break. */
const mutated = fc.tuple(structured, fc.array(fc.tuple(fc.nat(), noise), { maxLength: 3 })).map(([s, edits]) => {
  let out = s;
  for (const [at, text] of edits) {
    const i = out.length === 0 ? 0 : at % out.length;
    out = out.slice(0, i) + text.slice(0, 2) + out.slice(i + 1);
  }
  return out;
});
const anyReference = fc.oneof(structured, mutated, noise, fc.constant(HEX64), fc.constant(`sha256:${HEX64}`));

/** Runs fn; a throw must be an InvalidArgumentError. */
function attempt<T>(fn: () => T, what: string): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return undefined;
    throw new Error(`${what} threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
  }
}

function checkOne(s: string): void {
  const label = JSON.stringify(s);
  const ref = attempt(() => parseNormalizedNamed(s), `parseNormalizedNamed(${label})`);
  const any = attempt(() => parseAnyReference(s), `parseAnyReference(${label})`);
  attempt(() => parseNamed(s), `parseNamed(${label})`);
  if (any && !('digestOnly' in any)) assert.deepEqual(any, ref, `parseAnyReference(${label}) is the normalized name`);
  if (!ref) return;

  const printed = referenceString(ref);
  assert.deepEqual(parseNormalizedNamed(printed), ref, `${label} -> ${printed} parses back the same`);
  assert.deepEqual(parseNamed(printed), ref, `${printed} is canonical`);
  const familiar = familiarString(ref);
  // Go's FamiliarName has one blind spot, kept as Docker shows it: a Hub repository whose first
  // segment looks like a host ('docker.io/a.b/c' shows as 'a.b/c', which names host a.b).
  const first = familiar.split('/')[0] ?? '';
  const ambiguous = ref.domain === 'docker.io' && familiar.includes('/') && (/[.:]/.test(first) || first === 'localhost');
  if (!ambiguous) assert.deepEqual(parseNormalizedNamed(familiar), ref, `${label} -> familiar ${familiar} parses back the same`);
  const tagged: Reference = tagNameOnly(ref);
  assert.deepEqual(parseNormalizedNamed(referenceString(tagged)), tagged);
  attempt(() => withTag(ref, s), `withTag(${label})`);
  attempt(() => withDigest(ref, s), `withDigest(${label})`);
}

describe('reference parser properties', () => {
  it('replays the corpus', () => {
    for (const { name, value } of corpusStrings('reference')) {
      assert.doesNotThrow(() => checkOne(value), name);
    }
  });

  it('fails only with InvalidArgumentError; parse, print, parse is stable; familiar forms round-trip', () => {
    fc.assert(
      fc.property(anyReference, (s) => checkOne(s)),
      fuzzParams(3000),
    );
  });
});
