import { promises as fs, type Dir } from 'node:fs';
import * as path from 'node:path';
import { blobDir } from '../content/blob-check.js';
import type { ImageService } from '../images/image-service.js';
import type { Logger } from '../util/logger.js';
import { syncDir } from '../util/sync-dir.js';

/**
 * Present while a daemon runs on the data root and after one died without stopping cleanly: the
 * next start then looks for what a killed daemon can leave behind.
 */
export const DIRTY_MARKER = 'ladingd.dirty';

/** Log at most this many lines of each kind; the rest are counted. */
const MAX_LINES = 20;
const HEX64 = /^[a-f0-9]{64}$/;

export interface StartupReport {
  /** The previous daemon did not stop cleanly. */
  unclean: boolean;
  /** Image targets missing from the content store (the first few are logged with their names). */
  missingTargets: string[];
  /** Layer records removed because their blob was gone. */
  staleLayerRecords: number;
  /** Blobs no image reached, removed. */
  orphansRemoved: number;
}

/**
 * The cheap check at daemon start, run in the background once the API answers (so that the first
 * answer does not wait for it). Nothing is hashed; `ladingd check` does that.
 *
 * - Always: image records whose target blob is missing (one indexed SQLite scan of the distinct
 *   targets and one pass over the names in `<dataRoot>/content/blobs/sha256`; only what seems missing
 *   is stat'ed), logged as warnings; the records are kept (inspect answers with the content
 *   unavailable).
 * - After an unclean stop only (a kill, a crash, a power cut): the ingest area was already emptied
 *   before the stores opened; here layer records of blobs that are gone are dropped, and blobs that no
 *   image reaches (a load killed before it named its images, a removal killed before its sweep) go
 *   through the garbage collector, which leaves anything a request in flight holds.
 */
export class StartupCheck {
  private running: Promise<StartupReport | undefined> | undefined;
  /** Set by stop(): the check gives up at its next step, so that a stop is not held up. */
  private stopping = false;

  private constructor(
    private readonly dataRoot: string,
    private readonly images: ImageService,
    private readonly log: Logger,
    readonly unclean: boolean,
  ) {}

  /**
   * Notes whether the last daemon stopped cleanly and marks the data root as in use, durably,
   * before any write can be acknowledged. Call it with the data root locked, before listening.
   */
  static async open(dataRoot: string, images: ImageService, log: Logger): Promise<StartupCheck> {
    const marker = path.join(dataRoot, DIRTY_MARKER);
    let unclean = true;
    try {
      await fs.access(marker);
    } catch {
      unclean = false;
      const handle = await fs.open(marker, 'w', 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await syncDir(dataRoot);
    }
    if (unclean) log.info('The previous daemon did not stop cleanly: looking for leftovers in the background');
    return new StartupCheck(dataRoot, images, log, unclean);
  }

  /** Starts the check in the background; `finished` answers when it is over. */
  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      if (err instanceof Stopped) this.log.debug('Start-up check cut short by the stop');
      else this.log.error(`Start-up check failed: ${(err as Error).message}`);
      return undefined;
    });
  }

  /** The report, once the check is over (undefined when it failed or was never started). */
  get finished(): Promise<StartupReport | undefined> {
    return this.running ?? Promise.resolve(undefined);
  }

  /**
   * At a clean stop, after the servers have closed: cuts the check short, then clears the marker,
   * unless an unclean start's recovery did not complete (the next start tries again).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const report = await this.finished;
    if (this.unclean && !report) return;
    await fs.rm(path.join(this.dataRoot, DIRTY_MARKER), { force: true });
    await syncDir(this.dataRoot).catch(() => undefined);
  }

  private async run(): Promise<StartupReport> {
    // Let the listeners take their first requests before any of this.
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    const report: StartupReport = { unclean: this.unclean, missingTargets: [], staleLayerRecords: 0, orphansRemoved: 0 };
    const { metadata, content } = this.images;

    // One pass over the blob directory's names (nothing stat'ed, nothing read): the targets not
    // seen are missing, once a stat confirms it (a removal may have run meanwhile).
    const targets = await metadata.targetsByPrefix('', Number.MAX_SAFE_INTEGER);
    const unseen = new Set(targets);
    const blobs: string[] = [];
    await this.eachBlob((digest) => {
      unseen.delete(digest);
      if (this.unclean) blobs.push(digest);
    });
    for (const digest of unseen) {
      if (this.stopping) throw new Stopped();
      if ((await content.has(digest)) || (await metadata.imagesByTarget(digest)).length === 0) continue;
      report.missingTargets.push(digest);
      // Facts kept of it (image-list.ts) described it whole; they are gathered again.
      await metadata.forgetBlob(digest);
      if (report.missingTargets.length <= MAX_LINES) {
        const names = (await metadata.imagesByTarget(digest)).map((r) => r.name);
        this.log.warn(`Image ${names.join(', ')}: its content ${digest} is missing; 'ladingd check' tells more`);
      }
    }
    if (report.missingTargets.length > MAX_LINES) {
      this.log.warn(`... and ${report.missingTargets.length - MAX_LINES} more images whose content is missing`);
    }

    if (this.unclean) {
      report.staleLayerRecords = await this.dropStaleLayerRecords(new Set(blobs));
      if (this.stopping) throw new Stopped();
      report.orphansRemoved = await this.collectOrphans(blobs);
    }

    const took = Date.now() - started;
    const found = report.missingTargets.length + report.staleLayerRecords + report.orphansRemoved;
    const summary =
      `Start-up check done in ${took} ms: ${targets.length} image target(s), ${report.missingTargets.length} missing` +
      (this.unclean ? `; removed ${report.orphansRemoved} unused blob(s) and ${report.staleLayerRecords} stale layer record(s)` : '');
    if (found > 0) this.log.info(summary);
    else this.log.debug(summary);
    return report;
  }

  /** Every blob's digest, from the names in the store's directory. */
  private async eachBlob(seen: (digest: string) => void): Promise<void> {
    let dir: Dir;
    try {
      dir = await fs.opendir(blobDir(path.join(this.dataRoot, 'content')), { bufferSize: 1024 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let n = 0;
    for await (const entry of dir) {
      if (this.stopping) throw new Stopped();
      if (HEX64.test(entry.name)) seen(`sha256:${entry.name}`);
      // Now and then a turn of the event loop for the requests.
      if (++n % 4096 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Layer records whose blob is gone (a sweep killed between the two deletes). */
  private async dropStaleLayerRecords(blobs: ReadonlySet<string>): Promise<number> {
    const { metadata, content } = this.images;
    let dropped = 0;
    for (const facts of await metadata.listLayerFacts()) {
      if (blobs.has(facts.digest)) continue;
      if (this.stopping) throw new Stopped();
      // Asked again inside the removal: a load may have brought the blob back since the listing. A
      // load writes a layer's record only after the blob's commit has come back, and in a
      // transaction of its own, which waits for this one: its record comes after this delete.
      const gone = await metadata.removal(async (tx) => {
        if (await content.has(facts.digest)) return false;
        await tx.deleteLayerFacts(facts.digest);
        return true;
      });
      if (gone) dropped++;
    }
    return dropped;
  }

  /**
   * Blobs no image reaches: every blob is a candidate, and the garbage collector keeps what an
   * image reaches or an operation in flight holds, deciding under its own lock.
   */
  private async collectOrphans(blobs: string[]): Promise<number> {
    if (blobs.length === 0) return 0;
    const deleted = await this.images.collectGarbage(blobs);
    for (const digest of deleted.slice(0, MAX_LINES)) this.log.debug(`Removed unused blob ${digest}`);
    return deleted.length;
  }
}

/** Thrown inside the check when the daemon stops. */
class Stopped extends Error {}
