/**
 * Docker's progress messages (pkg/progress, pkg/streamformatter, pkg/jsonmessage of moby v28.5.2),
 * as plain objects whose key order is jsonmessage.JSONMessage's, ready for Go-style JSON encoding.
 */
import { humanSize } from './go-size.js';

export interface JsonProgress {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface JsonMessage {
  stream?: string;
  status?: string;
  progressDetail?: JsonProgress;
  progress?: string;
  id?: string;
  errorDetail?: { message: string };
  error?: string;
  /** Anything else a client may want (push results, notes for the CLI). */
  aux?: object;
}

/** Where pull progress goes; the API writes each message as one line of the stream. */
export type ProgressSink = (message: JsonMessage) => void;

/** progress.Message: a status line, with an id when given. */
export function statusMessage(id: string, message: string): JsonMessage {
  return id ? { status: message, id } : { status: message };
}

export interface ProgressUpdate {
  id: string;
  action: string;
  current?: number;
  total?: number;
  hideCounts?: boolean;
  units?: string;
}

/** progress.Output.WriteProgress of an action: status, progressDetail, the progress bar, id. */
export function progressMessage(p: ProgressUpdate): JsonMessage {
  const detail: JsonProgress = {};
  if (p.current) detail.current = p.current;
  if (p.total) detail.total = p.total;
  if (p.hideCounts) detail.hidecounts = true;
  if (p.units) detail.units = p.units;
  const bar = progressString(detail);
  const message: JsonMessage = { status: p.action, progressDetail: detail };
  if (bar) message.progress = bar;
  if (p.id) message.id = p.id;
  return message;
}

/**
 * JSONProgress.String as dockerd computes it: dockerd's standard input is no terminal, so the
 * width is 200 (the bar is drawn), and pulls set no start time (no time left).
 */
export function progressString(p: JsonProgress, width = 200): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (!p.hidecounts) {
    if (!p.units) {
      numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
    } else {
      numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
    }
  }
  return bar + numbers;
}

/** The 12-hex short form Docker gives blobs in progress lines (stringid.TruncateID). */
export function shortId(digest: string): string {
  const hex = digest.slice(digest.indexOf(':') + 1);
  return hex.slice(0, 12);
}
