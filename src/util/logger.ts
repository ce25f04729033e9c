/**
 * A leveled logger writing to stderr as dockerd's logrus does: text (`time="…" level=info msg="…" k=v`)
 * or, with `--log-format json`, one JSON object a line (`{"k":…,"level":"info","msg":"…","time":"…"}`).
 * The warn level is written `warning`, as logrus names it.
 */
import { goMarshal } from './go-json.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type LogFormat = 'text' | 'json';

/** Structured fields of a line: names, digests, bytes, durations. */
export type LogFields = Record<string, string | number | boolean | readonly string[] | undefined>;

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };
const LOG_FORMATS: readonly string[] = ['text', 'json'];

export interface Logger {
  readonly debugEnabled: boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function isLogLevel(value: string): value is LogLevel {
  return value in ORDER;
}

export function isLogFormat(value: string): value is LogFormat {
  return LOG_FORMATS.includes(value);
}

/** A logger that drops everything (library use and unit tests). */
export const silentLogger: Logger = { debugEnabled: false, debug() {}, info() {}, warn() {}, error() {} };

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
  format: LogFormat = 'text',
): Logger {
  const emit = (at: LogLevel, msg: string, fields: LogFields | undefined): void => {
    if (ORDER[at] < ORDER[level]) return;
    const time = rfc3339NanoFixed(new Date());
    // logrus names the warn level `warning`.
    const name = at === 'warn' ? 'warning' : at;
    write(format === 'json' ? jsonLine(time, name, msg, fields) : textLine(time, name, msg, fields));
  };
  return {
    debugEnabled: level === 'debug',
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** containerd/log's RFC3339NanoFixed, which dockerd logs with: always nine fraction digits. */
function rfc3339NanoFixed(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}

function present(fields: LogFields | undefined): [string, Exclude<LogFields[string], undefined>][] {
  return Object.entries(fields ?? {}).filter((e): e is [string, Exclude<LogFields[string], undefined>] => e[1] !== undefined);
}

/** logrus' TextFormatter: fields after msg, sorted; a value quoted when it needs to be. */
function textLine(time: string, level: string, msg: string, fields: LogFields | undefined): string {
  const parts = [`time="${time}"`, `level=${level}`, `msg=${JSON.stringify(msg)}`];
  for (const [key, value] of present(fields).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const text = Array.isArray(value) ? `[${value.join(' ')}]` : String(value);
    parts.push(`${key}=${/^[\w.\-/@^+:]+$/.test(text) ? text : JSON.stringify(text)}`);
  }
  return parts.join(' ') + '\n';
}

/** logrus' JSONFormatter: one object, keys sorted as Go marshals a map. */
function jsonLine(time: string, level: string, msg: string, fields: LogFields | undefined): string {
  const entry = new Map<string, unknown>(present(fields));
  // A field named like a built-in key keeps its value under `fields.<key>`, as logrus does.
  for (const [key, value] of [['level', level], ['msg', msg], ['time', time]] as const) {
    if (entry.has(key)) entry.set(`fields.${key}`, entry.get(key));
    entry.set(key, value);
  }
  return goMarshal(entry) + '\n';
}
