import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchAcceptStrict } from './accept.js';

const OFFERS = ['application/jsonl', 'application/x-ndjson', 'application/json-seq'];

test('matchAcceptStrict: exact names only, highest q, ties to the earlier offer', () => {
  assert.equal(matchAcceptStrict(undefined, OFFERS), '');
  assert.equal(matchAcceptStrict('', OFFERS), '');
  assert.equal(matchAcceptStrict('application/*, */*', OFFERS), '');
  assert.equal(matchAcceptStrict('text/html,application/json-seq', OFFERS), 'application/json-seq');
  assert.equal(matchAcceptStrict('application/json-seq, application/x-ndjson', OFFERS), 'application/x-ndjson');
  assert.equal(matchAcceptStrict('application/x-ndjson;q=0.4 , application/json-seq; q=0.45', OFFERS), 'application/json-seq');
  assert.equal(matchAcceptStrict('application/jsonl;q=0', OFFERS), '');
});

test('matchAcceptStrict: as gddo ParseAccept, a parameter other than q ends the list there', () => {
  assert.equal(matchAcceptStrict('application/x-ndjson, application/jsonl;charset=utf-8, application/json-seq', OFFERS), 'application/x-ndjson');
  assert.equal(matchAcceptStrict('application/jsonl;q=x, application/json-seq', OFFERS), '');
});
