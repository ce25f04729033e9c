// docker-py (Debian's python3-docker) against ladingd; it negotiates the daemon's API version.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Daemon } from '../support/daemon.js';
import { assertInspect, expectImage, MAX_API } from '../support/expect.js';
import { layoutTar, multiPlatformImage, noCreatedImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';

describe('docker-py', { timeout: 300_000 }, () => {
  let d: Daemon;
  let single: ImageFixture;
  let multi: ImageFixture;

  before(async () => {
    [single, multi] = await Promise.all([singlePlatformImage(), multiPlatformImage()]);
    d = await Daemon.start();
  });
  after(async () => {
    await d?.stop();
  });

  it('client.version() negotiates the maximum API version', async () => {
    const v = await d.pythonJson<{ api: string; server: string }>(
      'print(json.dumps({"api": client.api.api_version, "server": client.version()["ApiVersion"]}))',
    );
    assert.deepEqual(v, { api: MAX_API, server: MAX_API });
  });

  it('client.images.load(data) returns the loaded images', async () => {
    const nocreated = await noCreatedImage();
    for (const [fx, file] of [
      [single, await ociArchive(single)],
      [multi, await ociArchive(multi)],
      [nocreated, await layoutTar(nocreated)],
    ] as const) {
      const loaded = await d.pythonJson<Array<{ id: string; tags: string[] }>>(
        `with open(${JSON.stringify(file)}, "rb") as f:\n` +
          '    images = client.images.load(f.read())\n' +
          'print(json.dumps([{"id": i.id, "tags": i.tags} for i in images]))',
        { timeoutMs: 120_000 },
      );
      assert.deepEqual(loaded, [{ id: fx.id, tags: [fx.familiar] }]);
    }
  });

  it('client.images.get(name).attrs', async () => {
    for (const fx of [single, multi, await noCreatedImage()]) {
      const attrs = await d.pythonJson<Record<string, unknown>>(
        `print(json.dumps(client.images.get(${JSON.stringify(fx.familiar)}).attrs))`,
      );
      assertInspect(attrs, expectImage(fx, { apiVersion: MAX_API }));
      assert.equal(attrs.Id, fx.id);
      assert.deepEqual(attrs.RepoTags, [fx.familiar]);
      assert.deepEqual((attrs.Config as Record<string, unknown>).Cmd, ['/bin/sh']);
    }
  });

  it('Image.short_id and labels come from the document', async () => {
    const got = await d.pythonJson<{ short: string; labels: Record<string, string> }>(
      'img = client.images.get("lading-single:v1")\nprint(json.dumps({"short": img.short_id, "labels": img.labels}))',
    );
    assert.equal(got.short, single.id.slice(0, 'sha256:'.length + 10));
    assert.equal(got.labels['com.example.html'], '<b>&</b>');
  });

  it('a missing image raises docker.errors.ImageNotFound', async () => {
    const got = await d.pythonJson<{ type: string; status: number; explanation: string }>(
      'try:\n' +
        '    client.images.get("nosuch")\n' +
        '    print(json.dumps({"type": "none"}))\n' +
        'except docker.errors.ImageNotFound as e:\n' +
        '    print(json.dumps({"type": type(e).__name__, "status": e.status_code, "explanation": e.explanation}))',
    );
    assert.deepEqual(got, { type: 'ImageNotFound', status: 404, explanation: 'No such image: nosuch:latest' });
  });
});
