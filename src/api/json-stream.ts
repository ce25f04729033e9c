import type { ServerResponse } from 'node:http';
import { goMarshal } from '../util/go-json.js';

/**
 * Docker's JSON message stream (pull, load, push): one JSON object per line, ended by `\r\n`,
 * encoded as Go's json.Marshal encodes jsonmessage.JSONMessage.
 */
export class JsonMessageStream {
  constructor(private readonly res: ServerResponse) {}

  start(): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/json' });
  }

  write(message: object): void {
    this.start();
    this.res.write(goMarshal(message) + '\r\n');
  }

  stream(text: string): void {
    this.write({ stream: text });
  }

  /** An error once the stream has begun: the status is already 200, so it goes in the stream. */
  error(message: string): void {
    this.write({ errorDetail: { message }, error: message });
  }

  end(): void {
    this.start();
    this.res.end();
  }
}
