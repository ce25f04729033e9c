#!/usr/bin/env node
// Writes dist/build-info.json (or the file given): the commit and time of this build, which `docker
// version` shows as Git commit and Built. Outside a git checkout of Lading (an npm tarball, no git),
// the commit is left out. SOURCE_DATE_EPOCH, when set, is the build time (reproducible builds).
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const out = process.argv[2] ?? join(root, 'dist', 'build-info.json');

function git(args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The short commit, as Docker's builds show it, with `-dirty` for uncommitted changes to tracked files. */
function gitCommit() {
  // Only Lading's own checkout: a package unpacked inside another repository must not take its commit.
  const top = git(['rev-parse', '--show-toplevel']);
  if (!top || realpathSync(top) !== realpathSync(root)) return undefined;
  const commit = git(['rev-parse', '--short', 'HEAD']);
  if (!commit) return undefined;
  return git(['status', '--porcelain', '--untracked-files=no']) ? `${commit}-dirty` : commit;
}

const epoch = process.env.SOURCE_DATE_EPOCH;
const buildTime = (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString();
const commit = gitCommit();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ ...(commit ? { gitCommit: commit } : {}), buildTime }) + '\n');
