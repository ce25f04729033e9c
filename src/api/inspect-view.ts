import type { ImageInspect } from '../images/image-service.js';
import type { ManifestSummary } from '../images/inspect.js';
import { descriptorJson as descriptorView, platformJson as platformView } from '../oci/descriptor-json.js';
import type { ContainerConfig } from '../oci/types.js';
import { goMarshal } from '../util/go-json.js';
import { GO_ZERO_TIME } from '../util/time.js';
import { versionAtLeast, versionLessThan } from './api-version.js';

/**
 * The one place where an inspect document takes the shape of an API version. What changes
 * between versions is data here (which keys, which defaults), not branches elsewhere.
 */
interface VersionShape {
  /** `VirtualSize` = Size, and `Created` falls back to Go's zero time. */
  legacySizeAndCreated: boolean;
  descriptor: boolean;
  manifests: boolean;
  /** Keys `Config` always carries, with their zero values, merged under the image's own. */
  configDefaults: Record<string, unknown>;
}

const CONFIG_DEFAULTS_1_50: Record<string, unknown> = {
  Cmd: null,
  Entrypoint: null,
  Env: null,
  Labels: null,
  OnBuild: null,
  User: '',
  Volumes: null,
  WorkingDir: '',
};

const CONFIG_DEFAULTS_1_49: Record<string, unknown> = {
  ...CONFIG_DEFAULTS_1_50,
  AttachStderr: false,
  AttachStdin: false,
  AttachStdout: false,
  Domainname: '',
  Hostname: '',
  Image: '',
  OpenStdin: false,
  StdinOnce: false,
  Tty: false,
};

export function inspectShape(version: string): VersionShape {
  return {
    legacySizeAndCreated: versionLessThan(version, '1.44'),
    descriptor: versionAtLeast(version, '1.48'),
    manifests: versionAtLeast(version, '1.48'),
    configDefaults: versionLessThan(version, '1.50') ? CONFIG_DEFAULTS_1_49 : CONFIG_DEFAULTS_1_50,
  };
}

/** The response body of `GET /images/{name}/json` for `version`, byte for byte as Docker 28. */
export function renderInspect(image: ImageInspect, version: string): Buffer {
  const shape = inspectShape(version);
  const created = image.created ?? (shape.legacySizeAndCreated ? GO_ZERO_TIME : undefined);
  const doc = {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests,
    Parent: image.parent,
    Comment: image.comment,
    Created: created,
    DockerVersion: '',
    Author: image.author,
    Architecture: image.architecture,
    Variant: image.variant || undefined,
    Os: image.os,
    OsVersion: image.osVersion || undefined,
    Size: image.size,
    VirtualSize: shape.legacySizeAndCreated && image.size !== 0 ? image.size : undefined,
    GraphDriver: { Data: null, Name: image.graphDriver },
    RootFS: {
      Type: image.rootFS.type || undefined,
      Layers: image.rootFS.layers.length > 0 ? image.rootFS.layers : undefined,
    },
    Metadata: { LastTagTime: image.lastTagTime },
    Descriptor: shape.descriptor ? descriptorView(image.descriptor) : undefined,
    Manifests: shape.manifests && image.manifests?.length ? image.manifests.map(manifestView) : undefined,
    Config: configView(image.config, shape.configDefaults),
  };
  return Buffer.from(goMarshal(doc) + '\n');
}

// Descriptors and platforms as Go writes the OCI types; the image list uses them too.
export { descriptorView, platformView };

/** One `Manifests` entry, as inspect and the image list both write it. */
export function manifestView(m: ManifestSummary): object {
  return {
    ID: m.id,
    Descriptor: descriptorView(m.descriptor),
    Available: m.available,
    Size: { Content: m.contentSize, Total: m.totalSize },
    Kind: m.kind,
    ImageData: m.imageData && {
      Platform: platformView(m.imageData.platform),
      Size: { Unpacked: m.imageData.unpackedSize },
      Containers: null,
    },
    AttestationData: m.attestationFor !== undefined ? { For: m.attestationFor } : undefined,
  };
}

/**
 * `Config` as Docker builds it: the image config's known fields (as Go's DockerOCIImageConfig
 * keeps them, empty ones left out) over the version's defaults, then re-marshalled as a map, so
 * every object at every depth comes out with sorted keys.
 */
function configView(config: ContainerConfig | undefined, defaults: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>(Object.entries(defaults));
  if (config) {
    for (const [key, value] of Object.entries(knownConfigFields(config))) out.set(key, asGoMap(value));
  }
  return out;
}

const stringList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';
const nonEmptyObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;

function knownConfigFields(c: ContainerConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (nonEmptyString(c.User)) out.User = c.User;
  if (nonEmptyObject(c.ExposedPorts)) out.ExposedPorts = emptyStructs(c.ExposedPorts);
  if (stringList(c.Env)) out.Env = c.Env;
  if (stringList(c.Entrypoint)) out.Entrypoint = c.Entrypoint;
  if (stringList(c.Cmd)) out.Cmd = c.Cmd;
  if (nonEmptyObject(c.Volumes)) out.Volumes = emptyStructs(c.Volumes);
  if (nonEmptyString(c.WorkingDir)) out.WorkingDir = c.WorkingDir;
  if (nonEmptyObject(c.Labels)) out.Labels = stringValues(c.Labels);
  if (nonEmptyString(c.StopSignal)) out.StopSignal = c.StopSignal;
  if (c.ArgsEscaped === true) out.ArgsEscaped = true;
  if (typeof c.Healthcheck === 'object' && c.Healthcheck !== null) out.Healthcheck = healthcheck(c.Healthcheck as Record<string, unknown>);
  if (stringList(c.OnBuild)) out.OnBuild = c.OnBuild;
  if (stringList(c.Shell)) out.Shell = c.Shell;
  return out;
}

function healthcheck(h: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (stringList(h.Test)) out.Test = h.Test;
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) {
    const v = h[key];
    if (typeof v === 'number' && Number.isInteger(v) && v !== 0) out[key] = v;
  }
  return out;
}

function emptyStructs(map: Record<string, unknown>): Record<string, object> {
  return Object.fromEntries(Object.keys(map).map((k) => [k, {}]));
}

function stringValues(map: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

function asGoMap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asGoMap);
  if (typeof value === 'object' && value !== null) {
    return new Map(Object.entries(value).map(([k, v]) => [k, asGoMap(v)]));
  }
  return value;
}
