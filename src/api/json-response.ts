import type { ServerResponse } from 'node:http';
import { goMarshal } from '../util/go-json.js';

/** Docker's httputils.WriteJSON: a 200 with the document as Go marshals it, HTML left unescaped, a newline after. */
export function sendJson(res: ServerResponse, doc: unknown): void {
  const body = Buffer.from(goMarshal(doc, { escapeHTML: false }) + '\n');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}
