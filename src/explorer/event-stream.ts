/**
 * The activity view's feed: the image service's events as server-sent events, the kept ones first
 * (the last 256, as `docker events --since` replays), then each new one as it happens.
 */
import type { ServerResponse } from 'node:http';
import type { EngineEvent, EventBus } from '../events/event-bus.js';
import type { ExplorerEvent } from '../images/explorer-api-types.js';

const HEARTBEAT_MS = 15_000;

export function explorerEvent(e: EngineEvent): ExplorerEvent {
  return { type: e.type, action: e.action, id: e.actor.id, attributes: e.actor.attributes, time: Number(e.timeNano / 1_000_000n), timeNano: e.timeNano.toString() };
}

export function streamEvents(res: ServerResponse, bus: EventBus): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
  const send = (e: EngineEvent): void => {
    res.write(`id: ${e.timeNano}\ndata: ${JSON.stringify(explorerEvent(e))}\n\n`);
  };
  const sub = bus.subscribeTopic(send, { since: 0n, onClose: () => res.end() });
  for (const e of sub.buffered) send(e);
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  res.on('close', () => {
    clearInterval(heartbeat);
    sub.unsubscribe();
  });
}
