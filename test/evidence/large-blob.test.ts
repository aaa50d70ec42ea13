/**
 * Files of hundreds of megabytes stream through the upload API into the blob store and back out,
 * without ever being held whole in memory.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { evidenceBlobStore } from '../../src/domains/evidence/evidence-blobs.ts';
import { buildTestApp } from '../helpers/app.ts';

const MiB = 1024 * 1024;

/** `total` bytes of varied content in 1 MiB chunks, made as they are read; hashes them on the way. */
function generated(total: number) {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const chunk = Buffer.alloc(Math.min(MiB, total - sent), sent / MiB);
      chunk.writeUInt32BE(sent >>> 0, 0);
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

function memoryPeak() {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return peak - base;
    },
  };
}

test('a 160 MiB file streams in and out without being held in memory', async (t) => {
  const ctx = await buildTestApp(t);
  assert.equal(
    (await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } }))
      .statusCode,
    201,
  );
  const size = 160 * MiB;
  const { stream, digest } = generated(size);
  const watch = memoryPeak();
  const uploaded = await ctx.app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/evidence/blobs',
    headers: { 'content-type': 'application/octet-stream' },
    payload: stream,
  });
  const grew = watch.stop();
  assert.equal(uploaded.statusCode, 201, uploaded.body);
  const sha256 = digest();
  t.after(() => evidenceBlobStore(ctx.config).delete(sha256));
  assert.deepEqual(uploaded.json(), { sha256, size, created: true });
  assert.ok(
    grew < 96 * MiB,
    `memory grew by ${Math.round(grew / MiB)} MiB while uploading ${size / MiB} MiB`,
  );
  assert.equal(await evidenceBlobStore(ctx.config).verify(sha256), true);

  const added = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/evidence',
    payload: {
      items: [
        {
          kind: 'backup.restore_test',
          effectiveAt: '2026-03-01T00:00:00Z',
          blob: { sha256, size, mediaType: 'application/octet-stream', fileName: 'restore.img' },
        },
      ],
    },
  });
  assert.equal(added.statusCode, 201, added.body);
  // Downloading streams too: hash the response as it arrives.
  const id = added.json().items[0].id;
  const download = await ctx.app.inject({
    method: 'GET',
    url: `/api/v1/workspaces/acme/evidence/${id}/blob`,
    payloadAsStream: true,
  });
  assert.equal(download.statusCode, 200);
  assert.equal(download.headers['content-length'], String(size));
  const hash = createHash('sha256');
  for await (const chunk of download.stream()) hash.update(chunk as Buffer);
  assert.equal(hash.digest('hex'), sha256);
});
