// Builds the explorer page into dist/web/explorer, which ladingd serves under /_lading/ui/ (src/explorer/).
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/_lading/ui/',
  plugins: [preact()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/web/explorer', import.meta.url)),
    emptyOutDir: true,
    // Served from the daemon with no network at run time: everything in the bundle, no CDN.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
