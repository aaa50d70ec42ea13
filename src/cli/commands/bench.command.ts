import type { Command } from 'commander';
import { type CommandIO, configFrom, globalOptions } from '../runtime.ts';

export function registerBenchCommand(program: Command, io: CommandIO) {
  program
    .command('bench')
    .description('run the benchmark suite (settings: ASSAY_BENCH_*; DATABASE_URL to run on PostgreSQL)')
    .option('--only <names>', 'only benchmarks whose name contains one of these (comma-separated)')
    .option('--quick', 'each benchmark at its smallest size, writing nothing (a smoke test)')
    .action(async (opts: { only?: string; quick?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      // Loaded on demand: the suite is not part of the running product.
      const { runBenchmarks } = await import('../../../bench/run.ts');
      const print = (line: string) => (options.json ? io.stderr(`${line}\n`) : io.stdout(`${line}\n`));
      const results = await runBenchmarks(config, print, { only: opts.only, quick: opts.quick });
      if (options.json) io.stdout(`${JSON.stringify({ results }, null, 2)}\n`);
    });
}
