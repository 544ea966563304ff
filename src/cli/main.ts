// The `switchyard` command line: check, demo, serve and bench, built with commander.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { runBench } from './bench.js';
import { checkClause } from './check.js';
import { runDemo } from './demo.js';
import { runServe, type ServeFlags } from './serve.js';
import { packageVersion } from '../http/version.js';

export async function main(argv: readonly string[]): Promise<void> {
  const version = packageVersion();
  const program = new Command();
  program
    .name('switchyard')
    .description('Postgres shape sync engine: exact where clauses, fast routing, Electric-compatible sync')
    .version(version, '-V, --version', 'print the version of switchyard');
  program
    .command('check')
    .description(
      "compile a where clause against a table's columns and print the normalized clause, or the error with a caret; " +
        'without --columns, check its syntax only',
    )
    .option('--columns <json>', 'column types as JSON, e.g. \'{"price":"numeric"}\'')
    .option('--params <json>', 'parameter values as JSON, e.g. \'{"1":"42"}\'')
    .argument('<where>', 'the where clause')
    .action((where: string, opts: { columns?: string; params?: string }) => {
      const r = checkClause(where, opts.columns, opts.params);
      if (r.ok) console.log(r.output);
      else {
        console.error(r.output);
        process.exitCode = 1;
      }
    });
  program
    .command('demo')
    .description('a short tour of the where-clause language: clauses, rows, verdicts')
    .action(() => runDemo((line) => console.log(line)));
  program
    .command('bench')
    .description(
      'run the benchmarks side by side (indexed, filter, naive) and write the results to bench/out/ (from a source checkout)',
    )
    .option(
      '--suite <name>',
      'router (default), zoo (the workload zoo: cost per emitted id against the hot-key floor), shard (sharded vs one Router), scale (one Router loaded from a file at millions of shapes), where, or service (shapes created through the HTTP API against Postgres)',
    )
    .option(
      '--shapes <list>',
      'shape counts (router default 1k,10k,100k,1m; shard default 1m; zoo: one count per case, default 20k; service default 30k); counts all above 1m (e.g. 10m) run the scale suite',
    )
    .option('--cases <list>', 'zoo suite: the cases to run (default all; see bench/zoo-cases.ts)')
    .option('--seed-shapes <list>', 'zoo suite: seed-mix sizes (default 1k,10k,100k,1m)')
    .option('--big', 'zoo suite: also the seed mix at 10M shapes')
    .option('--rows <n>', 'zoo suite: rows generated per case')
    .option('--budget-ms <n>', 'zoo suite: timed routing per case (default 3000)')
    .option('--clients <n>', 'service suite: concurrent HTTP clients (default 32)')
    .option('--rows-per-shape <n>', 'service suite: table rows per shape (default 1)')
    .option('--rounds <n>', 'shard suite: interleaved measurement rounds')
    .option('--workloads <list>', 'seed-mix,all-complex,hot-key')
    .option('--modes <list>', 'indexed,filter,naive')
    .option('--changes <n>', 'changes routed per run')
    .option('--heap-mb <n>', 'heap for the benchmark process', '8192')
    .option('--json', 'print the report as JSON instead of writing files')
    .option(
      '--out <dir>',
      'where result files go (default bench/out/; --out bench/results replaces the committed results)',
    )
    .option('--no-write', 'print the results only')
    .action(
      async (opts: {
        rounds?: string;
        clients?: string;
        rowsPerShape?: string;
        suite?: string;
        shapes?: string;
        workloads?: string;
        modes?: string;
        changes?: string;
        cases?: string;
        seedShapes?: string;
        big?: boolean;
        rows?: string;
        budgetMs?: string;
        heapMb: string;
        json?: boolean;
        out?: string;
        write: boolean;
      }) => {
        const args: string[] = opts.shapes ? ['--shapes', opts.shapes] : [];
        if (opts.suite) args.push('--suite', opts.suite);
        if (opts.rounds) args.push('--rounds', opts.rounds);
        if (opts.clients) args.push('--clients', opts.clients);
        if (opts.rowsPerShape) args.push('--rows-per-shape', opts.rowsPerShape);
        if (opts.workloads) args.push('--workloads', opts.workloads);
        if (opts.modes) args.push('--modes', opts.modes);
        if (opts.changes) args.push('--changes', opts.changes);
        if (opts.cases) args.push('--cases', opts.cases);
        if (opts.seedShapes) args.push('--seed-shapes', opts.seedShapes);
        if (opts.big) args.push('--big');
        if (opts.rows) args.push('--rows', opts.rows);
        if (opts.budgetMs) args.push('--budget-ms', opts.budgetMs);
        if (opts.json) args.push('--json');
        // The benchmark runs in the checkout's root: a relative --out means relative to where the user is.
        if (opts.out !== undefined) args.push('--out', resolve(opts.out));
        if (!opts.write) args.push('--no-write');
        process.exitCode = await runBench(args, Number(opts.heapMb));
      },
    );
  program
    .command('serve')
    .description('run the sync service: Postgres logical replication → shape logs → the Electric shape HTTP API')
    .option('--port <n>', 'HTTP port (env PORT, default 3000)')
    .option('--host <addr>', 'listen address (default 0.0.0.0)')
    .option(
      '--database-url <url>',
      'Postgres URL (env DATABASE_URL); without one an embedded Postgres 15 runs in the data dir',
    )
    .option(
      '--data-dir <dir>',
      'where shape logs (and the embedded Postgres) live (env SWITCHYARD_DATA_DIR, default ./.switchyard)',
    )
    .option(
      '--secret <s>',
      'require this secret on /v1/shape (query secret= or Authorization: Bearer; env SWITCHYARD_SECRET)',
    )
    .option('--long-poll-timeout <ms>', 'how long a live request is held without changes (default 20000)')
    .option('--sse-timeout <ms>', 'how long an SSE live stream stays open before the server ends it (default 60000)')
    .option('--chunk-bytes <n>', 'about how many bytes of log one response carries (default 10 MiB)')
    .option('--enable-delete', 'allow DELETE /v1/shape')
    .option('--demo', 'seed the demo table items and print a URL to curl')
    .option(
      '--shards <n>',
      'route with the sharded router: n worker threads per replicated table (env SWITCHYARD_SHARDS; default 0 = in-process router)',
    )
    .option('--max-concurrent-creations <n>', 'shape creations at once; beyond: 429 (default 32, 0 = no limit)')
    .option('--max-shapes <n>', 'shapes in total; beyond: 503 (default 0 = no limit)')
    .option('--max-shapes-per-table <n>', 'shapes per table; beyond: 503 (default 0 = no limit)')
    .option(
      '--max-where-bytes <n>',
      'bytes of a where clause; beyond: 400 where_too_complex (default 0: the 65536 hard limit)',
    )
    .option('--max-where-nodes <n>', 'nodes of an analysed where clause; beyond: 400 where_too_complex (default 20000)')
    .option(
      '--max-creation-latency <ms>',
      'while 4+ creations run and recent ones took longer than this, new ones get 429 with a paced retry-after (default 20000, 0 = off)',
    )
    .option(
      '--compile-budget <ms>',
      'work budget for compiling a where clause, constant folding included; beyond it 400 too_expensive (env SWITCHYARD_COMPILE_BUDGET_MS; default 50)',
    )
    .option(
      '--shape-row-budget <ms>',
      "work one evaluation of a shape's where clause may spend on one row; beyond it the shape is invalidated (409) and its clause refused with 400 too_expensive (env SWITCHYARD_SHAPE_ROW_BUDGET_MS; default 50)",
    )
    .option(
      '--slice-ms <ms>',
      'longest stretch processing one replicated transaction holds the event loop before yielding to HTTP (default 10)',
    )
    .option(
      '--durable-reads',
      'readers see changes only once fsynced (adds the group fsync to delivery latency; for benchmarking and diagnosis)',
    )
    .action((opts: ServeFlags) => runServe(opts, version));
  await program.parseAsync([...argv]);
}

/** The command's entry (bin/switchyard.js): an error that escapes a command is printed and exits with status 1. */
export function runCli(argv: readonly string[]): void {
  main(argv).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
