/**
 * Serves the built web app (web/dist, from `npm run build:web`) to browsers: its files as they
 * are, and index.html for any other GET path so that the app's own routes survive a reload. API,
 * SCIM, webhook, OpenAPI and health paths are never answered with the app: an unknown one there
 * keeps the API's JSON 404.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from './app.ts';

export const webAppDir = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const apiPrefixes = ['/api', '/scim', '/webhooks', '/openapi.json', '/healthz'];

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

function isApiPath(path: string): boolean {
  return apiPrefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** The file under `root` a URL path names, or undefined (also for anything escaping root). */
function fileFor(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const candidate = normalize(join(root, decoded));
  if (!candidate.startsWith(root.endsWith(sep) ? root : `${root}${sep}`)) return undefined;
  return existsSync(candidate) && statSync(candidate).isFile() ? candidate : undefined;
}

export function registerWebApp(app: App, root: string = webAppDir): void {
  app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (isApiPath(path)) return reply.callNotFound();
    const file = fileFor(root, path);
    const index = join(root, 'index.html');
    if (file === undefined) {
      // A missing asset is a 404; any other path is one of the app's routes.
      if (path.startsWith('/assets/') || !existsSync(index)) return reply.callNotFound();
      return reply
        .type(contentTypes['.html']!)
        .header('cache-control', 'no-cache')
        .send(createReadStream(index));
    }
    // Built assets carry their content hash in their name, so they never change.
    const immutable = path.startsWith('/assets/');
    return reply
      .type(contentTypes[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(createReadStream(file));
  });
}
