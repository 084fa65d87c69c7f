import type { RebuildReport } from '../projections/rebuild.js';
import type { ProjectionStatus } from '../projections/status.js';

/** Plain-text output of the projection commands, for a terminal. */
export function formatStatusTable(statuses: readonly ProjectionStatus[]): string {
  if (statuses.length === 0) return 'no projections yet: start `ispbills start` or `ispbills project` once';
  const header = ['projection', 'version', 'gen', 'state', 'at event', 'applied', 'lag events', 'lag s', 'stopped at'];
  const rows = statuses.map((s) => [
    s.name,
    String(s.version),
    String(s.generation),
    s.state,
    s.global_position,
    s.events_applied,
    String(s.lag_events),
    s.lag_seconds.toFixed(1),
    s.failed_event === null ? '-' : `event ${s.failed_event.global_position} (${s.failed_event.type}): ${s.failed_event.error}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatRebuildReport(report: RebuildReport): string {
  const head =
    `${report.projection} v${report.version}: generation ${report.generation} built from ${report.events_applied} events ` +
    `in ${report.seconds.toFixed(1)} s (${report.events_per_second} events/s) and swapped in` +
    (report.replaced_generation === null ? '' : ` for generation ${report.replaced_generation}`);
  if (report.comparison === null) return `${head}\n  not compared: there was no live generation of the same version`;
  const tables = report.comparison.map(
    (table) =>
      `  ${table.table}: ${table.rows_new} rows` +
      (table.only_live === 0 && table.only_new === 0 ? ' — identical' : ` — ${table.only_live} only in the old, ${table.only_new} only in the new`),
  );
  return [`${head}; ${report.identical === true ? 'identical to the live one' : 'DIFFERENT from the live one (the rebuild from events is what now serves)'}`, ...tables].join('\n');
}
