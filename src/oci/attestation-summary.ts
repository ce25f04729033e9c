/**
 * What an in-toto statement says, in a few fields: the packages of an SBOM (SPDX 2.x `packages`,
 * CycloneDX `components`, nested ones included) and the builder, source and materials of SLSA
 * provenance (v0.2's `builder`/`invocation`/`materials`, v1's `runDetails`/`buildDefinition`).
 * Anything else is summarized by its predicate type only; the raw statement stays one call away.
 */
import type { ProvenanceSummary, SbomPackage, StatementSummary } from './types.js';

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function digestMap(v: unknown): Record<string, string> | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) if (typeof x === 'string') out[k] = x;
  return Object.keys(out).length > 0 ? out : undefined;
}
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function statementKind(predicateType: string): StatementSummary['kind'] {
  if (predicateType.startsWith('https://spdx.dev/Document')) return 'spdx';
  if (predicateType.startsWith('https://cyclonedx.org/bom')) return 'cyclonedx';
  if (predicateType.startsWith('https://slsa.dev/provenance/')) return 'provenance';
  return 'other';
}

/** The summary of a statement's JSON, read as `predicateType` (the layer's annotation) says. */
export function summarizeStatement(predicateType: string, statement: unknown): StatementSummary {
  const s = obj(statement) ?? {};
  const predicate = obj(s.predicate) ?? {};
  const kind = statementKind(predicateType);
  const subjects = arr(s.subject).map((x) => defined({ name: str(obj(x)?.name), digest: digestMap(obj(x)?.digest) }));
  const summary: StatementSummary = { predicateType, kind, subjects };
  if (kind === 'spdx') summary.packages = spdxPackages(predicate);
  else if (kind === 'cyclonedx') summary.packages = cyclonedxComponents(arr(predicate.components));
  else if (kind === 'provenance') summary.provenance = provenance(predicate);
  return summary;
}

function spdxPackages(doc: Json): SbomPackage[] {
  return arr(doc.packages).flatMap((p) => {
    const o = obj(p);
    const name = str(o?.name);
    if (!o || !name) return [];
    const purl = arr(o.externalRefs)
      .map(obj)
      .find((r) => r?.referenceType === 'purl');
    const license = str(o.licenseConcluded) ?? str(o.licenseDeclared);
    return [defined({ name, version: str(o.versionInfo), purl: str(purl?.referenceLocator), license: license === 'NOASSERTION' ? undefined : license })];
  });
}

function cyclonedxComponents(components: unknown[]): SbomPackage[] {
  return components.flatMap((c) => {
    const o = obj(c);
    const name = str(o?.name);
    if (!o || !name) return [];
    const licenses = arr(o.licenses)
      .map((l) => str(obj(obj(l)?.license)?.id) ?? str(obj(obj(l)?.license)?.name) ?? str(obj(l)?.expression))
      .filter((l): l is string => l !== undefined);
    const own = defined({ name, version: str(o.version), purl: str(o.purl), type: str(o.type), license: licenses.length > 0 ? licenses.join(' AND ') : undefined });
    return [own, ...cyclonedxComponents(arr(o.components))];
  });
}

function provenance(p: Json): ProvenanceSummary {
  // SLSA v1: buildDefinition + runDetails.
  const definition = obj(p.buildDefinition);
  if (definition) {
    const external = obj(definition.externalParameters);
    const config = obj(external?.configSource);
    return defined({
      builder: str(obj(obj(p.runDetails)?.builder)?.id),
      buildType: str(definition.buildType),
      source: config ? defined({ uri: str(config.uri), digest: digestMap(config.digest), entryPoint: str(config.path) }) : undefined,
      materials: arr(definition.resolvedDependencies).map((m) => defined({ uri: str(obj(m)?.uri), digest: digestMap(obj(m)?.digest) })),
    });
  }
  const config = obj(obj(p.invocation)?.configSource);
  return defined({
    builder: str(obj(p.builder)?.id),
    buildType: str(p.buildType),
    source: config ? defined({ uri: str(config.uri), digest: digestMap(config.digest), entryPoint: str(config.entryPoint) }) : undefined,
    materials: arr(p.materials).map((m) => defined({ uri: str(obj(m)?.uri), digest: digestMap(obj(m)?.digest) })),
  });
}
