import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'RESULTS.md');

const MACHINE_START = '<!-- machine:start -->';
const MACHINE_END = '<!-- machine:end -->';

function cpuModel(): string {
  const line = readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('model name'));
  return line?.split(':').slice(1).join(':').trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

/** The machine a result was measured on; regenerated on every run, so it describes the latest one. */
export function machineDescription(postgres_version: string): string {
  const memory_gib = os.totalmem() / 1024 ** 3;
  return [
    MACHINE_START,
    `Machine of the latest run (${new Date().toISOString()}):`,
    '',
    `- CPUs (\`nproc\`): ${os.availableParallelism()}`,
    `- CPU model: ${cpuModel()}`,
    `- Memory: ${memory_gib.toFixed(1)} GiB`,
    `- Kernel: ${os.type()} ${os.release()} (${os.arch()})`,
    `- Node.js: ${process.version}`,
    `- PostgreSQL: ${postgres_version}`,
    MACHINE_END,
  ].join('\n');
}

/**
 * Writes `section` (which starts with its own `## ` heading) into bench/RESULTS.md, replacing the section with
 * the same heading and leaving every other benchmark's section alone. Creates the file when missing.
 */
export function writeResultsSection(heading: string, section: string, postgres_version: string): void {
  const machine = machineDescription(postgres_version);
  let text = existsSync(RESULTS_FILE)
    ? readFileSync(RESULTS_FILE, 'utf8')
    : `# Benchmark results\n\nWritten by the benchmarks in this directory (see README.md); do not edit by hand.\n\n${machine}\n`;
  const start = text.indexOf(MACHINE_START);
  const end = text.indexOf(MACHINE_END);
  if (start !== -1 && end > start) text = text.slice(0, start) + machine + text.slice(end + MACHINE_END.length);

  const body = section.trimEnd() + '\n';
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.trim() === heading);
  if (first === -1) {
    text = `${text.trimEnd()}\n\n${body}`;
  } else {
    let next = lines.findIndex((line, index) => index > first && line.startsWith('## '));
    if (next === -1) next = lines.length;
    const before = lines.slice(0, first).join('\n').trimEnd();
    const after = lines.slice(next).join('\n').trim();
    text = `${before}\n\n${body}${after === '' ? '' : `\n${after}\n`}`;
  }
  writeFileSync(RESULTS_FILE, text);
}
