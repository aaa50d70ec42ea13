import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, testEngine } from '../../test/helpers/database.ts';
import { type CopiedRows, copyBinaryMarker } from './postgres-copy.ts';

const serverOnly =
  'PostgreSQL only: the embedded database has binary rows of its own (pglite-binary.test.ts)';

/** The fields of each tuple in `data` (null for SQL null). */
function tuplesOf(data: Buffer): (Buffer | null)[][] {
  const tuples: (Buffer | null)[][] = [];
  let p = 0;
  while (p < data.length) {
    const fields: (Buffer | null)[] = [];
    const count = data.readInt16BE(p);
    p += 2;
    for (let i = 0; i < count; i++) {
      const length = data.readInt32BE(p);
      fields.push(length < 0 ? null : data.subarray(p + 4, p + 4 + length));
      p += 4 + Math.max(length, 0);
    }
    tuples.push(fields);
  }
  return tuples;
}

test('a marked COPY answers its rows in binary form, in order, with parameters written as literals', async (t) => {
  if (testEngine !== 'postgres') return t.skip(serverOnly);
  const { database } = await createTestDatabase(t);
  // A quote and a backslash in a string parameter stay inside their literal.
  const { rows } = await sql<CopiedRows>`${sql.raw(copyBinaryMarker)}
    copy (select decode(v, 'hex') as bytes, n::int8 as big, case when n = 2 then null else n::int2 end as small,
                 ${"O'Brien \\ said"}::text as words
          from (values (1, 'ff00c3'), (2, ''), (3, 'deadbeef')) as t(n, v) where n <= ${3} order by n)
    to stdout (format binary)`.execute(database.db);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.row_count, 3);
  const tuples = tuplesOf(rows[0]!.data);
  assert.deepEqual(tuples[0], [
    Buffer.from([0xff, 0x00, 0xc3]),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]),
    Buffer.from([0, 1]),
    Buffer.from("O'Brien \\ said"),
  ]);
  assert.deepEqual(tuples[1]!.slice(0, 3), [Buffer.alloc(0), Buffer.from([0, 0, 0, 0, 0, 0, 0, 2]), null]);
  assert.deepEqual(tuples[2]![0], Buffer.from('deadbeef', 'hex'));
});

test('a large COPY arrives whole; an empty one is empty', async (t) => {
  if (testEngine !== 'postgres') return t.skip(serverOnly);
  const { database } = await createTestDatabase(t);
  const { rows } = await sql<CopiedRows>`${sql.raw(copyBinaryMarker)}
    copy (select sha256(int4send(n)) from generate_series(1, ${200_000}) as n order by n) to stdout (format binary)`.execute(
    database.db,
  );
  assert.equal(rows[0]!.row_count, 200_000);
  const tuples = tuplesOf(rows[0]!.data);
  assert.equal(tuples.length, 200_000);
  const last = Buffer.from([0, 3, 0x0d, 0x40]); // int4 200000
  assert.deepEqual(tuples.at(-1)![0], createHash('sha256').update(last).digest());

  const empty = await sql<CopiedRows>`${sql.raw(copyBinaryMarker)}
    copy (select 1 where false) to stdout (format binary)`.execute(database.db);
  assert.deepEqual(empty.rows, [{ data: Buffer.alloc(0), row_count: 0 }]);
});

test('a COPY runs inside the caller transaction: its errors carry their code, and the transaction rolls back', async (t) => {
  if (testEngine !== 'postgres') return t.skip(serverOnly);
  const { database } = await createTestDatabase(t);
  await database.db.schema.createTable('kept').addColumn('n', 'integer').execute();
  const seen = await database.db.transaction().execute(async (trx) => {
    await sql`insert into kept values (7)`.execute(trx);
    // Sees the transaction's own uncommitted row: the same connection.
    const { rows } = await sql<CopiedRows>`${sql.raw(copyBinaryMarker)}
      copy (select n from kept) to stdout (format binary)`.execute(trx);
    return rows[0]!.row_count;
  });
  assert.equal(seen, 1);
  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      await sql`insert into kept values (8)`.execute(trx);
      await sql`${sql.raw(copyBinaryMarker)} copy (select decode(${'zz'}, 'hex')) to stdout (format binary)`.execute(
        trx,
      );
    }),
    (error: unknown) => {
      assert.equal((error as { code?: string }).code, '22023');
      assert.match((error as Error).message, /invalid hexadecimal/);
      return true;
    },
  );
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from kept`.execute(database.db);
  assert.deepEqual(rows, [{ n: 1 }]);
  // The connection is still good for ordinary statements.
  const again = await sql<{ one: number }>`select 1 as one`.execute(database.db);
  assert.deepEqual(again.rows, [{ one: 1 }]);
});

test('a parameter that cannot be written as a literal is refused before anything is sent', async (t) => {
  if (testEngine !== 'postgres') return t.skip(serverOnly);
  const { database } = await createTestDatabase(t);
  await assert.rejects(
    sql`${sql.raw(copyBinaryMarker)} copy (select ${Buffer.from('x')}::bytea) to stdout (format binary)`.execute(
      database.db,
    ),
    /copy statement parameter \$1: unsupported type object/,
  );
});
