import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import { openDatabase } from './database.ts';
import { BinaryQueryError, binaryRowsMarker, dataRowHeaderSize, queryBinaryRows } from './pglite-binary.ts';

async function embedded(t: { after: (fn: () => Promise<void>) => void }) {
  const pglite = await PGlite.create();
  t.after(() => pglite.close());
  return pglite;
}

/** The fields of each DataRow in `data`, as the database wrote them (null for SQL null). */
function rowsOf(data: Buffer): (Buffer | null)[][] {
  const rows: (Buffer | null)[][] = [];
  let p = 0;
  while (p < data.length) {
    assert.equal(data[p], 0x44, `a DataRow at byte ${p}`);
    const end = p + 1 + data.readInt32BE(p + 1);
    const fields: (Buffer | null)[] = [];
    let q = p + dataRowHeaderSize + 2;
    for (let i = 0; i < data.readInt16BE(p + dataRowHeaderSize); i++) {
      const length = data.readInt32BE(q);
      fields.push(length < 0 ? null : data.subarray(q + 4, q + 4 + length));
      q += 4 + Math.max(length, 0);
    }
    assert.equal(q, end, 'fields fill the message');
    rows.push(fields);
    p = end;
  }
  return rows;
}

test('rows arrive in binary form as the database wrote them: raw bytea, int8, int2, nulls, in order, parameters bound', async (t) => {
  const pglite = await embedded(t);
  // Bytes that are not UTF-8 (0xff, 0xc3 alone) would be mangled by any text decoding.
  const result = await queryBinaryRows(
    pglite,
    `${binaryRowsMarker} select decode(v, 'hex') as bytes, n::int8 as big, case when n = 2 then null else n::int2 end as small
     from (values (1, 'ff00c3'), (2, ''), (3, $1)) as t(n, v) where n <= $2 order by n`,
    ['deadbeef', 3],
  );
  assert.equal(result.row_count, 3);
  const rows = rowsOf(result.data);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], [
    Buffer.from([0xff, 0x00, 0xc3]),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]),
    Buffer.from([0, 1]),
  ]);
  assert.deepEqual(rows[1], [Buffer.alloc(0), Buffer.from([0, 0, 0, 0, 0, 0, 0, 2]), null]);
  assert.deepEqual(rows[2]![0], Buffer.from('deadbeef', 'hex'));
});

test('a result far larger than the database output buffer arrives whole, its rows back to back', async (t) => {
  const pglite = await embedded(t);
  const result = await queryBinaryRows(
    pglite,
    `${binaryRowsMarker} select sha256(int4send(n)) as hash from generate_series(1, 200000) as n order by n`,
    [],
  );
  assert.equal(result.row_count, 200_000);
  const rows = rowsOf(result.data);
  assert.equal(rows.length, 200_000);
  const { createHash } = await import('node:crypto');
  const last = Buffer.from([0, 3, 0x0d, 0x40]); // int4 200000
  assert.deepEqual(rows.at(-1)![0], createHash('sha256').update(last).digest());
});

test('no rows: an empty result', async (t) => {
  const pglite = await embedded(t);
  const result = await queryBinaryRows(pglite, `${binaryRowsMarker} select 1 as n where false`, []);
  assert.deepEqual(result, { data: Buffer.alloc(0), row_count: 0 });
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
      await sql`${sql.raw(binaryRowsMarker)} select decode(${'zz'}, 'hex') as bytes`.execute(trx);
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
  // Through the driver, a marked statement answers one row: the result's rows as written.
  const result = await sql<{
    data: Buffer;
    row_count: number;
  }>`${sql.raw(binaryRowsMarker)} select '\\x0102'::bytea as b`.execute(database.db);
  assert.equal(result.rows.length, 1);
  assert.equal(result.rows[0]!.row_count, 1);
  assert.deepEqual(rowsOf(result.rows[0]!.data), [[Buffer.from([1, 2])]]);
});
