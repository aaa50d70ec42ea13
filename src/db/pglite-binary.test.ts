import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import { openDatabase } from './database.ts';
import { BinaryQueryError, binaryResultsMarker, queryBinary } from './pglite-binary.ts';

async function embedded(t: { after: (fn: () => Promise<void>) => void }) {
  const pglite = await PGlite.create();
  t.after(() => pglite.close());
  return pglite;
}

test('bytea columns arrive as their raw bytes, nulls as null, row by row, with parameters bound', async (t) => {
  const pglite = await embedded(t);
  // Bytes that are not UTF-8 (0xff, 0xc3 alone) would be mangled by any text decoding.
  const rows = await queryBinary(
    pglite,
    `${binaryResultsMarker} select decode(v, 'hex') as bytes, case when n = 2 then null else int4send(n) end as number
     from (values (1, 'ff00c3'), (2, ''), (3, $1)) as t(n, v) where n <= $2 order by n`,
    ['deadbeef', 3],
  );
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0]!.bytes, Buffer.from([0xff, 0x00, 0xc3]));
  assert.deepEqual(rows[0]!.number, Buffer.from([0, 0, 0, 1]));
  assert.deepEqual(rows[1]!.bytes, Buffer.alloc(0));
  assert.equal(rows[1]!.number, null);
  assert.deepEqual(rows[2]!.bytes, Buffer.from('deadbeef', 'hex'));
});

test('a result larger than the database output buffer arrives whole', async (t) => {
  const pglite = await embedded(t);
  const rows = await queryBinary(
    pglite,
    `${binaryResultsMarker} select string_agg(sha256(int4send(n)), ''::bytea order by n) as hashes
     from generate_series(1, 200000) as n`,
    [],
  );
  const hashes = rows[0]!.hashes!;
  assert.equal(hashes.length, 200_000 * 32);
  const { createHash } = await import('node:crypto');
  const last = Buffer.from([0, 3, 0x0d, 0x40]); // int4 200000
  assert.deepEqual(hashes.subarray(-32), createHash('sha256').update(last).digest());
});

test('a column that is not bytea is refused by name', async (t) => {
  const pglite = await embedded(t);
  await assert.rejects(
    queryBinary(pglite, `${binaryResultsMarker} select 'x'::bytea as ok, 42 as answer`, []),
    /column answer is not bytea/,
  );
  assert.deepEqual((await pglite.query<{ n: number }>('select 1 as n')).rows, [{ n: 1 }]);
});

test('a database error surfaces with its code and message, and the transaction can still roll back', async (t) => {
  const pglite = await embedded(t);
  const database = await openDatabase({ dataDir: '', databaseUrl: undefined }, { pglite });
  t.after(() => database.close());
  await database.db.schema.createTable('kept').addColumn('n', 'integer').execute();
  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      await sql`insert into kept values (1)`.execute(trx);
      await sql`${sql.raw(binaryResultsMarker)} select decode(${'zz'}, 'hex') as bytes`.execute(trx);
    }),
    (error: unknown) => {
      assert.ok(error instanceof BinaryQueryError);
      assert.equal(error.code, '22023');
      assert.match(error.message, /invalid hexadecimal/);
      return true;
    },
  );
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from kept`.execute(database.db);
  assert.deepEqual(rows, [{ n: 0 }]);
  // Through the driver, a marked statement answers Buffers.
  const result = await sql<{
    b: Buffer;
  }>`${sql.raw(binaryResultsMarker)} select '\\x0102'::bytea as b`.execute(database.db);
  assert.deepEqual(result.rows, [{ b: Buffer.from([1, 2]) }]);
});
