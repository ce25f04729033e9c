/** The OCI image types as they appear on the wire (field names as in the specs). */

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface HealthcheckConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` object of an image config (Docker's extensions of the OCI ImageConfig included). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthcheckConfig;
  OnBuild?: string[];
  Shell?: string[];
  [key: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** What oci/attestation-summary.ts makes of an in-toto statement. */
export interface SbomPackage {
  name: string;
  version?: string;
  purl?: string;
  license?: string;
  type?: string;
}

export interface ProvenanceSummary {
  builder?: string;
  buildType?: string;
  source?: { uri?: string; digest?: Record<string, string>; entryPoint?: string };
  materials: Array<{ uri?: string; digest?: Record<string, string> }>;
}

export interface StatementSummary {
  predicateType: string;
  kind: 'spdx' | 'cyclonedx' | 'provenance' | 'other';
  subjects: Array<{ name?: string; digest?: Record<string, string> }>;
  packages?: SbomPackage[];
  provenance?: ProvenanceSummary;
}
