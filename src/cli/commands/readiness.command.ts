import type { Command } from 'commander';
import { resolvePeriod, scopeTemplateIds } from '../../domains/audits/periods.service.ts';
import { readinessReport } from '../../domains/audits/readiness.service.ts';
import { type CommandIO, configFrom, globalOptions, output, table, withDatabase } from '../runtime.ts';

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

export function registerReadinessCommand(program: Command, io: CommandIO) {
  program
    .command('readiness')
    .description(
      'Type II operating effectiveness for a period, the auditor-sample forecast and the gaps to fix first',
    )
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption(
      '--period <period>',
      'the audit window, e.g. 2026-01-01..2026-12-31, or an audit period’s name (its frozen scope)',
    )
    .option('--occurrences', 'include every occurrence of every population (JSON)')
    .action(async (opts: { tenant: string; period: string; occurrences?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const config = configFrom(options);
      const { populations, ...report } = await withDatabase(config, async (db) => {
        const period = await resolvePeriod(db, opts.tenant, opts.period);
        return readinessReport(db, opts.tenant, period.window, {
          deprovisioningSlaHours: config.deprovisioningSlaHours,
          controls: scopeTemplateIds(period),
        });
      });
      const result = opts.occurrences ? { ...report, populations } : report;
      output(io, options, result, (r) =>
        [
          `readiness of ${r.workspace} for ${r.period.from.slice(0, 10)}..${new Date(Date.parse(r.period.to) - 1).toISOString().slice(0, 10)} (judged at ${r.judgedAt})`,
          `score ${r.score} / 100; chance an auditor's samples find at least one deviation: ${pct(r.probabilityAnyDeviation)}`,
          '',
          'gaps to fix first:',
          table(
            ['CONTROL', 'P(FOUND)', 'DEVIATIONS', 'FIRST', 'ADVICE'],
            r.gaps
              .slice(0, 15)
              .map((g) => [
                g.templateId,
                pct(g.probabilityOfDeviationInSample),
                `${g.deviations} × ${g.unit}`,
                g.first ?? '',
                g.advice,
              ]),
          ),
          '',
          table(
            ['CONTROL', 'KIND', 'POPULATION', 'DEVIATIONS', 'SAMPLE', 'P(FOUND)'],
            r.controls.map((c) => [
              c.templateId,
              c.kind,
              `${c.population} × ${c.unit}`,
              String(c.deviations.total),
              String(c.sampleSize),
              pct(c.probabilityOfDeviationInSample),
            ]),
          ),
        ].join('\n'),
      );
    });
}
