import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = dirname(fileURLToPath(import.meta.url));
const root = join(compiled, '..', '..', '..');

/** Every module explorer-api-types.ts reaches through its imports and re-exports, itself first. */
function reached(start: string): string[] {
  const seen = new Set<string>([start]);
  for (const file of seen) {
    const source = readFileSync(join(root, file), 'utf8');
    for (const m of source.matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']+)';/gms)) {
      seen.add(relative(root, join(root, dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
    }
  }
  return [...seen];
}

// web/explorer's build takes these types from the server's source: a value in them would put server
// code (and whatever it imports: Node's modules) into the page's bundle.
test('the types the explorer page shares with the server reach no code', async () => {
  const modules = reached('src/images/explorer-api-types.ts');
  assert.ok(modules.includes('src/oci/types.ts'), modules.join(', '));
  for (const file of modules) {
    const source = readFileSync(join(root, file), 'utf8');
    for (const m of source.matchAll(/^(import|export)\b(?!\s+(?:type|interface)\b)[^;]*?;/gms)) {
      assert.fail(`${file} has a value ${m[1]}: ${m[0].split('\n')[0]}`);
    }
    const js = await import(pathToFileURL(join(compiled, '..', '..', file.replace(/\.ts$/, '.js'))).href);
    assert.deepEqual(Object.keys(js), [], `${file} exports values`);
  }
});
