import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console: built into dist/console, which the server serves at /console/ (src/http/console.ts).
 * Everything is bundled; the page loads nothing from elsewhere.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
