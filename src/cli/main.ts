// The `switchyard` command line: check, demo (and later serve and bench), built with commander.
import { Command } from 'commander';
import { checkClause } from './check.js';
import { runDemo } from './demo.js';

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command();
  program.name('switchyard').description('Postgres shape sync engine: exact where clauses, fast routing, Electric-compatible sync');
  program
    .command('check')
    .description('compile a where clause against a table\'s columns; print the normalized clause or the error')
    .requiredOption('--columns <json>', 'column types as JSON, e.g. \'{"price":"numeric"}\'')
    .option('--params <json>', 'parameter values as JSON, e.g. \'{"1":"42"}\'')
    .argument('<where>', 'the where clause')
    .action((where: string, opts: { columns: string; params?: string }) => {
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
  await program.parseAsync([...argv]);
}
