// The web app's build: `npm run build:web` writes web/dist, which `assay serve` serves.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  // `vite --config web/vite.config.ts` during development: the API runs on `assay serve`.
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
