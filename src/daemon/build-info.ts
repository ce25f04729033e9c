import { readFileSync } from 'node:fs';

/** What scripts/write-build-info.js recorded at build time; a field it could not know is absent. */
export interface BuildInfo {
  gitCommit?: string;
  buildTime?: string;
}

/** dist/build-info.json beside the compiled daemon; a build without it (plain `tsc`) knows nothing. */
export const BUILD_INFO_FILE = new URL('../../build-info.json', import.meta.url);

export function readBuildInfo(file: URL | string = BUILD_INFO_FILE): BuildInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { gitCommit, buildTime } = parsed as Record<string, unknown>;
  return {
    ...(typeof gitCommit === 'string' && gitCommit !== '' ? { gitCommit } : {}),
    ...(typeof buildTime === 'string' && buildTime !== '' ? { buildTime } : {}),
  };
}
