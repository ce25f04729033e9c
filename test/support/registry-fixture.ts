// The registry setup the pull, remote-inspect and push e2e tests share: the single- and multi-platform
// fixtures, a plain docker-registry on loopback (both images pushed to it, unless `seeded: false`), the
// fault proxy before it, and a ladingd.
import { Daemon, type StartOptions } from './daemon.js';
import { FaultProxy } from './fault-proxy.js';
import { multiPlatformImage, singlePlatformImage, type ImageFixture } from './images.js';
import { Registry } from './registry.js';

export interface RegistryFixtureOptions {
  /** Push `single` as `lab/single:v1` and `multi` (every platform) as `lab/multi:v1`. Default true. */
  seeded?: boolean;
  /** How to start the ladingd (extra flags). */
  daemon?: StartOptions;
}

export class RegistryFixture {
  private constructor(
    readonly single: ImageFixture,
    readonly multi: ImageFixture,
    readonly reg: Registry,
    readonly proxy: FaultProxy,
    readonly d: Daemon,
  ) {}

  static async start(opts: RegistryFixtureOptions = {}): Promise<RegistryFixture> {
    const [single, multi] = await Promise.all([singlePlatformImage(), multiPlatformImage()]);
    const started: Array<{ stop(): Promise<void> }> = [];
    try {
      const reg = await Registry.start();
      started.push(reg);
      if (opts.seeded ?? true) {
        await reg.push(single, 'lab/single:v1');
        await reg.push(multi, 'lab/multi:v1', { all: true });
      }
      const proxy = await FaultProxy.start({ upstream: reg });
      started.push(proxy);
      const d = await Daemon.start(opts.daemon);
      return new RegistryFixture(single, multi, reg, proxy, d);
    } catch (err) {
      // Whatever came up before the failure goes down again.
      for (const s of started.reverse()) await s.stop().catch(() => undefined);
      throw err;
    }
  }

  /** Stops the daemon (which must exit cleanly), and the proxy and the registry even when it does not. */
  async stop(): Promise<void> {
    try {
      await this.d.stop();
    } finally {
      await this.proxy.stop();
      await this.reg.stop();
    }
  }
}
