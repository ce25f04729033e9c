import { InvalidArgumentError } from '../../errors.js';
import type { EngineEvent, EventBus } from '../../events/event-bus.js';
import { eventFilter } from '../../events/event-filter.js';
import { parseFilters } from '../../filters/filter-args.js';
import { parseTimestamps, parseUnixTimestamp } from '../../util/go-time.js';
import { versionAtLeast } from '../api-version.js';
import { eventStreamFormat, renderEvent, sentAtVersion } from '../event-view.js';
import type { RequestContext, Router } from '../router.js';

const NANOS = 1_000_000_000n;
/** A client this far behind loses events, as dockerd's publisher skips a subscriber that does not keep up. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;
const SHUTDOWN_POLL_MS = 500;

/**
 * `GET /events` (docker events), as Docker 28's getEvents (29's from API 1.52: the format `Accept`
 * asks for): headers at once and then nothing until an event; kept events replayed when `since` or
 * `until` is given; the stream ends at `until`.
 */
export function addEventRoutes(router: Router, events: EventBus): void {
  router.add('GET', '/events', ({ req, res, version, query }: RequestContext) => {
    const sinceText = query.get('since') ?? '';
    const untilText = query.get('until') ?? '';
    const parse = versionAtLeast(version, '1.52') ? eventTime29 : eventTime;
    const since = parse('since', sinceText);
    const until = parse('until', untilText);
    let onlyPast = false;
    if (until !== undefined) {
      if (since !== undefined && until < since) {
        throw new InvalidArgumentError(`\`since\` time (${sinceText}) cannot be after \`until\` time (${untilText})`);
      }
      onlyPast = until < BigInt(Date.now()) * 1_000_000n;
    }
    const include = eventFilter(parseFilters(query.get('filters') ?? ''));

    const format = eventStreamFormat(version, req.headers.accept);
    res.writeHead(200, { 'Content-Type': format.contentType });
    res.flushHeaders();
    const send = (event: EngineEvent): void => {
      if (res.writableEnded || !sentAtVersion(event, version)) return;
      if (res.writableLength > MAX_BUFFERED_BYTES) return;
      res.write(format.recordPrefix + renderEvent(event, version));
    };

    let timer: NodeJS.Timeout | undefined;
    // A daemon shutting down stops listening at once but waits for open responses: end this one then.
    const server = (req.socket as { server?: { listening?: boolean } }).server;
    const shutdownWatch = setInterval(() => {
      if (server && server.listening === false) finish();
    }, SHUTDOWN_POLL_MS);
    shutdownWatch.unref();
    const { buffered, unsubscribe } = events.subscribeTopic(send, {
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(include ? { include } : {}),
      onClose: () => finish(),
    });
    const finish = (): void => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      clearInterval(shutdownWatch);
      if (!res.writableEnded) res.end();
    };
    res.on('close', finish);
    for (const event of buffered) send(event);
    if (onlyPast) {
      finish();
      return;
    }
    if (until !== undefined) {
      // setTimeout holds at most ~24.8 days: a later `until` re-arms.
      const arm = (): void => {
        const ms = Number((until - BigInt(Date.now()) * 1_000_000n) / 1_000_000n);
        timer = ms > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(finish, Math.max(0, ms));
      };
      arm();
    }
  });
}

/**
 * Docker 28's eventTime: `seconds[.nanoseconds]`; "" (and seconds of -1) mean not given. A value that
 * does not parse is Go's strconv error, which Docker 28 answers with 500.
 */
function eventTime(_name: string, value: string): bigint | undefined {
  if (value === '') return undefined;
  const t = parseTimestamps(value);
  const seconds = t >= 0n ? t / NANOS : -((-t + NANOS - 1n) / NANOS);
  return seconds === -1n ? undefined : t;
}

/** Docker 29's (API 1.52+): only "" means not given (-1 is a second before the epoch); a bad value is a 400. */
function eventTime29(name: string, value: string): bigint | undefined {
  try {
    return parseUnixTimestamp(value);
  } catch (err) {
    throw new InvalidArgumentError(`invalid value for '${name}': ${(err as Error).message}`);
  }
}
