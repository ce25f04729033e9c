import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageInspect } from '../images/explorer-api-types.js';
import { renderInspect } from './inspect-view.js';

const image: ImageInspect = {
  id: 'sha256:' + 'a'.repeat(64),
  repoTags: ['busybox:latest'],
  repoDigests: ['busybox@sha256:' + 'a'.repeat(64)],
  parent: '',
  comment: 'c<1>',
  author: '',
  architecture: 'arm64',
  variant: 'v8',
  os: 'linux',
  osVersion: '',
  size: 1234,
  graphDriver: 'overlayfs',
  lastTagTime: '2026-01-01T00:00:00.5Z',
  descriptor: {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: 'sha256:' + 'a'.repeat(64),
    size: 100,
    annotations: { 'z.b': '1', 'a.b': '2' },
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  },
  rootFS: { type: 'layers', layers: ['sha256:' + 'b'.repeat(64)] },
  config: {
    Cmd: ['/bin/sh'],
    Env: [],
    Labels: { b: '1', a: '2' },
    Healthcheck: { Test: ['CMD', 'true'], Interval: 30000000000, Retries: 0 },
    Hostname: 'ignored',
    ExposedPorts: { '80/tcp': { junk: 1 } },
  },
};

const parse = (version: string, img = image): Record<string, unknown> =>
  JSON.parse(renderInspect(img, version).toString()) as Record<string, unknown>;

test('keys come in Docker order with Config last, and the body ends with a newline', () => {
  const body = renderInspect(image, '1.51').toString();
  assert.ok(body.endsWith('}\n'));
  assert.deepEqual(Object.keys(parse('1.51')), [
    'Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'DockerVersion', 'Author', 'Architecture', 'Variant',
    'Os', 'Size', 'GraphDriver', 'RootFS', 'Metadata', 'Descriptor', 'Config',
  ]);
});

test('Config keys are sorted at every depth, unknown keys dropped, empty ones defaulted', () => {
  const body = renderInspect(image, '1.51').toString();
  const config = body.slice(body.indexOf('"Config":'));
  assert.equal(
    config,
    '"Config":{"Cmd":["/bin/sh"],"Entrypoint":null,"Env":null,"ExposedPorts":{"80/tcp":{}},' +
      '"Healthcheck":{"Interval":30000000000,"Test":["CMD","true"]},"Labels":{"a":"2","b":"1"},' +
      '"OnBuild":null,"User":"","Volumes":null,"WorkingDir":""}}\n',
  );
});

test('up to 1.49 Config carries the legacy container keys, from 1.50 it does not', () => {
  const legacy = parse('1.49').Config as Record<string, unknown>;
  assert.equal(legacy.Hostname, '');
  assert.equal(legacy.AttachStdin, false);
  assert.equal(legacy.Image, '');
  const current = parse('1.50').Config as Record<string, unknown>;
  assert.equal('Hostname' in current, false);
  assert.equal('Tty' in current, false);
});

test('Descriptor appears from 1.48 with sorted annotations', () => {
  assert.equal('Descriptor' in parse('1.47'), false);
  const body = renderInspect(image, '1.48').toString();
  assert.match(body, /"annotations":\{"a\.b":"2","z\.b":"1"\},"platform":\{"architecture":"arm64","os":"linux","variant":"v8"\}/);
});

test('below 1.44: VirtualSize equals Size and a missing Created is the zero time', () => {
  const old = parse('1.43', { ...image, created: undefined });
  assert.equal(old.VirtualSize, 1234);
  assert.equal(old.Created, '0001-01-01T00:00:00Z');
  const current = parse('1.44', { ...image, created: undefined });
  assert.equal('VirtualSize' in current, false);
  assert.equal('Created' in current, false);
});

test('HTML characters are escaped as Go does', () => {
  assert.match(renderInspect(image, '1.51').toString(), /"Comment":"c\\u003c1\\u003e"/);
});

test('an image without an available platform has empty fields and the bare Config', () => {
  const bare: ImageInspect = { ...image, architecture: '', variant: '', os: '', rootFS: { type: '', layers: [] }, config: undefined };
  const doc = parse('1.51', bare);
  assert.deepEqual(doc.RootFS, {});
  assert.equal(doc.Architecture, '');
  assert.deepEqual(doc.Config, {
    Cmd: null, Entrypoint: null, Env: null, Labels: null, OnBuild: null, User: '', Volumes: null, WorkingDir: '',
  });
});

const pulled: ImageInspect = { ...image, comment: '', identity: { pull: [{ repository: 'docker.io/library/alpine' }] } };

test('1.51 -> 1.52: empty Parent/Comment/DockerVersion/Author and unset Config keys left out, no GraphDriver, Docker 29 key order', () => {
  assert.deepEqual(Object.keys(parse('1.51', pulled)), [
    'Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'DockerVersion', 'Author', 'Architecture', 'Variant',
    'Os', 'Size', 'GraphDriver', 'RootFS', 'Metadata', 'Descriptor', 'Config',
  ]);
  assert.deepEqual(Object.keys(parse('1.52', pulled)), [
    'Id', 'RepoTags', 'RepoDigests', 'Config', 'Architecture', 'Variant', 'Os', 'Size', 'RootFS', 'Metadata', 'Descriptor',
  ]);
  // A Comment that says something is still sent.
  assert.equal(parse('1.52').Comment, 'c<1>');
  // DockerOCIImageConfig's struct order, empty fields out, maps sorted; Healthcheck in its struct order.
  const body = renderInspect(image, '1.52').toString();
  assert.ok(
    body.includes(
      '"Config":{"ExposedPorts":{"80/tcp":{}},"Cmd":["/bin/sh"],"Labels":{"a":"2","b":"1"},' +
        '"Healthcheck":{"Test":["CMD","true"],"Interval":30000000000}},"Architecture"',
    ),
    body,
  );
  const bare: ImageInspect = { ...image, config: undefined };
  assert.deepEqual(parse('1.52', bare).Config, {});
});

test('1.52 -> 1.53: Identity from where the image came from, left out when nothing is known', () => {
  assert.equal(parse('1.52', pulled).Identity, undefined);
  assert.deepEqual(parse('1.53', pulled).Identity, { Pull: [{ Repository: 'docker.io/library/alpine' }] });
  assert.deepEqual(Object.keys(parse('1.55', pulled)).slice(-2), ['Descriptor', 'Identity']);
  assert.equal('Identity' in parse('1.55', image), false);
});
