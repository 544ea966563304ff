// Measures replication decode throughput: pgoutput from a real walsender into whole transactions, and the pure
// decoder + assembler on synthetic frames. Run: npx tsx bench/replication-throughput.ts [postgres-url]
import pg from 'pg';
import { ReplicationClient } from '../src/replication/replication-client.js';
import { dropSlot } from '../src/replication/replication-admin.js';
import { decodePgoutput, PG_EPOCH_OFFSET_US } from '../src/replication/pgoutput-decoder.js';
import { TransactionAssembler } from '../src/replication/transaction-assembler.js';
import { startPostgres, type PostgresInstance } from '../test/support/postgres.js';

async function main(): Promise<void> {
  let owned: PostgresInstance | undefined;
  const url = process.argv[2] ?? (owned = await startPostgres()).url;
  const db = `sy_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const u = new URL(url);
  u.pathname = '/' + db;
  const sql = new pg.Client({ connectionString: u.toString() });
  await sql.connect();
  try {
    await sql.query('CREATE TABLE bench (id bigserial PRIMARY KEY, v int, s text)');
    await run('A: 1 txn x 100k inserts', u.toString(), sql, 100_000, async () => {
      await sql.query("INSERT INTO bench (v, s) SELECT g, 'row ' || g FROM generate_series(1, 100000) g");
    });
    await run('B: 10k txns x 10 inserts', u.toString(), sql, 100_000, async () => {
      const one = "BEGIN; INSERT INTO bench (v, s) SELECT g, 'row ' || g FROM generate_series(1, 10) g; COMMIT;";
      for (let i = 0; i < 100; i++) await sql.query(one.repeat(100));
    });
    synthetic();
  } finally {
    for (const s of (await sql.query<{ slot_name: string }>('SELECT slot_name FROM pg_replication_slots')).rows) {
      await dropSlot(sql, s.slot_name);
    }
    await sql.end();
    await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
    await admin.end();
    await owned?.stop();
  }
}

/** Creates the slot, runs the workload while nobody reads, then times a fresh client catching up. */
async function run(
  name: string,
  url: string,
  sql: pg.Client,
  rows: number,
  workload: () => Promise<void>,
): Promise<void> {
  const slot = `bench_${name[0]!.toLowerCase()}`;
  const options = { connection: url, slot, publication: 'bench_pub', onTransaction: async () => undefined };
  const setup = new ReplicationClient(options);
  await setup.start();
  await setup.setTables([{ schema: 'public', table: 'bench' }]);
  await setup.close();
  await workload();
  let seen = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const client = new ReplicationClient({
    ...options,
    onTransaction: async (tx) => {
      seen += tx.changes.length;
      if (seen >= rows) done();
    },
  });
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  await client.start();
  await finished;
  const s = (performance.now() - t0) / 1000;
  const rss = process.memoryUsage().rss;
  await client.close();
  await sql.query('TRUNCATE bench');
  console.log(
    `${name}: ${rows} rows in ${s.toFixed(2)} s = ${Math.round(rows / s / 1000)}k rows/s (rss ${(rss / 2 ** 20).toFixed(0)} MB, +${((rss - rss0) / 2 ** 20).toFixed(0)} MB)`,
  );
}

/** CPU-only ceiling: decode + assemble 100k synthetic Insert frames (3 text columns) without a server. */
function synthetic(): void {
  const rel = Buffer.concat([
    Buffer.from('R'),
    u32(1),
    Buffer.from('public\0bench\0f'),
    i16(3),
    Buffer.from([1]),
    Buffer.from('id\0'),
    u32(20),
    i32(-1),
    Buffer.from([0]),
    Buffer.from('v\0'),
    u32(23),
    i32(-1),
    Buffer.from([0]),
    Buffer.from('s\0'),
    u32(25),
    i32(-1),
  ]);
  const frames: Buffer[] = [];
  for (let i = 0; i < 100_000; i++) {
    const vals = [String(i + 1), String(i), `row ${i}`].map((v) =>
      Buffer.concat([Buffer.from('t'), i32(v.length), Buffer.from(v)]),
    );
    frames.push(Buffer.concat([Buffer.alloc(25), Buffer.from('I'), u32(1), Buffer.from('N'), i16(3), ...vals]));
  }
  const begin = Buffer.concat([Buffer.alloc(25), Buffer.from('B'), u64(100n), u64(-PG_EPOCH_OFFSET_US), u32(7)]);
  const commit = Buffer.concat([Buffer.alloc(25), Buffer.from('C'), Buffer.from([0]), u64(100n), u64(200n), u64(0n)]);
  for (let round = 0; round < 5; round++) {
    let rows = 0;
    const asm = new TransactionAssembler({
      transaction: (tx) => (rows += tx.changes.length),
      relation: () => undefined,
      type: () => undefined,
    });
    const t0 = performance.now();
    asm.handle(decodePgoutput(rel));
    asm.handle(decodePgoutput(begin, 25));
    for (const f of frames) asm.handle(decodePgoutput(f, 25));
    asm.handle(decodePgoutput(commit, 25));
    const s = (performance.now() - t0) / 1000;
    if (round >= 2)
      console.log(
        `synthetic decode+assemble: ${rows} rows in ${(s * 1000).toFixed(0)} ms = ${Math.round(rows / s / 1000)}k rows/s`,
      );
  }
}

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
const i32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const i16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
};

await main();
