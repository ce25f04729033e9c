import type { ImageIdentity, ImageInspect, ManifestSummary } from '../images/explorer-api-types.js';
import { descriptorJson as descriptorView, platformJson as platformView } from '../oci/descriptor-json.js';
import type { ContainerConfig } from '../oci/types.js';
import { goMarshal } from '../util/go-json.js';
import { GO_ZERO_TIME } from '../util/go-time.js';
import { versionAtLeast, versionLessThan } from './api-version.js';

/**
 * The one place where an inspect document takes the shape of an API version. What changes
 * between versions is data here (which keys, in which order, which defaults), not branches elsewhere.
 */
interface VersionShape {
  /** The document's keys in wire order; a key whose value is undefined is left out. */
  keys: readonly InspectKey[];
  /** `VirtualSize` = Size, and `Created` falls back to Go's zero time. */
  legacySizeAndCreated: boolean;
  descriptor: boolean;
  manifests: boolean;
  /** `Parent`, `Comment`, `DockerVersion`, `Author` sent even when empty (28.5); from 1.52 omitempty. */
  emptyStrings: boolean;
  /** `GraphDriver` `{Data: null, Name: <snapshotter>}`; 29.7's containerd store omits it from 1.52. */
  graphDriver: boolean;
  /** `Identity` (1.53): where the image came from. */
  identity: boolean;
  /**
   * `Config`: 28.5 re-marshals the document as a map (keys sorted at every depth, with these
   * defaults under the image's own); 29.7 writes DockerOCIImageConfig's struct, empty fields left out.
   */
  config: { sorted: true; defaults: Record<string, unknown> } | { sorted: false };
}

type InspectKey =
  | 'Id' | 'RepoTags' | 'RepoDigests' | 'Parent' | 'Comment' | 'Created' | 'DockerVersion' | 'Author'
  | 'Architecture' | 'Variant' | 'Os' | 'OsVersion' | 'Size' | 'VirtualSize' | 'GraphDriver' | 'RootFS'
  | 'Metadata' | 'Descriptor' | 'Manifests' | 'Identity' | 'Config';

/** Docker 28.5's InspectResponse, Config last (its compat wrapper appends it). */
const KEYS_28: readonly InspectKey[] = [
  'Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'DockerVersion', 'Author', 'Architecture',
  'Variant', 'Os', 'OsVersion', 'Size', 'VirtualSize', 'GraphDriver', 'RootFS', 'Metadata', 'Descriptor',
  'Manifests', 'Config',
];

/**
 * Docker 29.7's InspectResponse struct (`Parent` and `DockerVersion` are no longer fields: a
 * legacy-builder image would bring them back through the compat wrapper; Lading has none).
 */
const KEYS_29: readonly InspectKey[] = [
  'Id', 'RepoTags', 'RepoDigests', 'Comment', 'Created', 'Author', 'Config', 'Architecture', 'Variant', 'Os',
  'OsVersion', 'Size', 'GraphDriver', 'RootFS', 'Metadata', 'Descriptor', 'Manifests', 'Identity',
];

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
  const docker29 = versionAtLeast(version, '1.52');
  return {
    keys: docker29 ? KEYS_29 : KEYS_28,
    legacySizeAndCreated: versionLessThan(version, '1.44'),
    descriptor: versionAtLeast(version, '1.48'),
    manifests: versionAtLeast(version, '1.48'),
    emptyStrings: !docker29,
    graphDriver: !docker29,
    identity: versionAtLeast(version, '1.53'),
    config: docker29
      ? { sorted: false }
      : { sorted: true, defaults: versionLessThan(version, '1.50') ? CONFIG_DEFAULTS_1_49 : CONFIG_DEFAULTS_1_50 },
  };
}

/** The response body of `GET /images/{name}/json` for `version`, byte for byte as Docker 28.5 or 29.7. */
export function renderInspect(image: ImageInspect, version: string): Buffer {
  const shape = inspectShape(version);
  const created = image.created ?? (shape.legacySizeAndCreated ? GO_ZERO_TIME : undefined);
  const text = (s: string): string | undefined => (shape.emptyStrings || s !== '' ? s : undefined);
  const values: Record<InspectKey, unknown> = {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests,
    Parent: text(image.parent),
    Comment: text(image.comment),
    Created: created,
    DockerVersion: text(''),
    Author: text(image.author),
    Architecture: image.architecture,
    Variant: image.variant || undefined,
    Os: image.os,
    OsVersion: image.osVersion || undefined,
    Size: image.size,
    VirtualSize: shape.legacySizeAndCreated && image.size !== 0 ? image.size : undefined,
    GraphDriver: shape.graphDriver ? { Data: null, Name: image.graphDriver } : undefined,
    RootFS: {
      Type: image.rootFS.type || undefined,
      Layers: image.rootFS.layers.length > 0 ? image.rootFS.layers : undefined,
    },
    Metadata: { LastTagTime: image.lastTagTime },
    Descriptor: shape.descriptor ? descriptorView(image.descriptor) : undefined,
    Manifests: shape.manifests && image.manifests?.length ? image.manifests.map((m) => manifestView(m)) : undefined,
    Identity: shape.identity ? identityView(image.identity) : undefined,
    Config: shape.config.sorted ? sortedConfigView(image.config, shape.config.defaults) : structConfigView(image.config),
  };
  const doc = Object.fromEntries(shape.keys.map((key) => [key, values[key]]));
  return Buffer.from(goMarshal(doc) + '\n');
}

/** api/types/image.Identity; undefined (omitted) when it says nothing. Signature and Build: none here. */
export function identityView(identity: ImageIdentity | undefined): object | undefined {
  if (!identity || identity.pull.length === 0) return undefined;
  return { Pull: identity.pull.map((p) => ({ Repository: p.repository })) };
}

// Descriptors and platforms as Go writes the OCI types; the image list uses them too.
export { descriptorView, platformView };

/** One `Manifests` entry, as inspect and the image list both write it. */
export function manifestView(m: ManifestSummary, identity?: ImageIdentity): object {
  return {
    ID: m.id,
    Descriptor: descriptorView(m.descriptor),
    Available: m.available,
    Size: { Content: m.contentSize, Total: m.totalSize },
    Kind: m.kind,
    ImageData: m.imageData && {
      Platform: platformView(m.imageData.platform),
      // The list's `identity=1` (1.54): image-level facts, repeated for each available image manifest.
      Identity: m.kind === 'image' && m.available ? identityView(identity) : undefined,
      Size: { Unpacked: m.imageData.unpackedSize },
      Containers: null,
    },
    AttestationData: m.attestationFor !== undefined ? { For: m.attestationFor } : undefined,
  };
}

/**
 * `Config` as Docker 28.5 builds it: the image config's known fields (as Go's DockerOCIImageConfig
 * keeps them, empty ones left out) over the version's defaults, then re-marshalled as a map, so
 * every object at every depth comes out with sorted keys.
 */
function sortedConfigView(config: ContainerConfig | undefined, defaults: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>(Object.entries(defaults));
  if (config) {
    for (const [key, value] of Object.entries(knownConfigFields(config))) out.set(key, asGoMap(value));
  }
  return out;
}

/** `Config` as Docker 29.7 writes it from 1.52: the struct's fields in order, empty ones left out, maps sorted. */
function structConfigView(config: ContainerConfig | undefined): Record<string, unknown> {
  const out = config ? knownConfigFields(config) : {};
  for (const key of ['ExposedPorts', 'Volumes', 'Labels']) if (out[key] !== undefined) out[key] = asGoMap(out[key]);
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
