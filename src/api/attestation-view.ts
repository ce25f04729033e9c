import type { AttestationStatement } from '../images/image-attestations.js';
import { goMarshal, RawJson } from '../util/go-json.js';
import { descriptorView } from './inspect-view.js';

/**
 * The body of `GET /images/{name}/attestations` (api/types/image.AttestationStatement list):
 * `[]`, never null, when there is nothing; each statement as its blob has it, compacted as Go's
 * encoder writes a json.RawMessage (no HTML escaping in API responses).
 */
export function renderAttestations(statements: readonly AttestationStatement[]): Buffer {
  const doc = statements.map((s) => ({
    Descriptor: descriptorView(s.descriptor),
    PredicateType: s.predicateType,
    Statement: s.statement ? new RawJson(compactJson(s.statement)) : undefined,
  }));
  return Buffer.from(goMarshal(doc, { escapeHTML: false }) + '\n');
}

/**
 * Go's json.Compact without escaping: whitespace between tokens dropped, strings untouched. A blob
 * that is not JSON fails as Go's encoder fails on an invalid RawMessage (a 500).
 */
export function compactJson(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  try {
    JSON.parse(text);
  } catch (err) {
    throw new Error(`json: error calling MarshalJSON for type *json.RawMessage: ${(err as Error).message}`);
  }
  let out = '';
  let inString = false;
  let escaped = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      out += text.slice(start, i);
      start = i + 1;
    }
  }
  return out + text.slice(start);
}
