#!/usr/bin/env node
// Installs the Debian packages the test suite drives as real peers, when they are missing and we can
// (root + apt-get). Each entry names the command the tests run and the package that provides it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const required = [
  { command: 'docker-compose', package: 'docker-compose', why: 'validates docker-compose.yml (docker-compose config)' },
  { command: 'hledger', package: 'hledger', why: 'independent check of the books (test/books: hledger check, hledger balance against our trial balance)' },
  { command: 'radclient', package: 'freeradius-utils', why: 'drives the RADIUS suite (test/radius) against radius-bridge and FreeRADIUS' },
  { command: 'freeradius', package: 'freeradius', why: 'the RADIUS suite runs the same tests against a stock FreeRADIUS 3.2 reading our tables' },
  { file: '/usr/lib/freeradius/rlm_sql_postgresql.so', package: 'freeradius-postgresql', why: "FreeRADIUS' PostgreSQL driver (rlm_sql) for the RADIUS suite" },
  { file: '/usr/bin/chromium', package: 'chromium', why: 'the browser tests of the panels and portals (test/web) drive Debian\'s Chromium with playwright-core' },
  { command: 'pdftoppm', package: 'poppler-utils', why: 'the documents tests (test/documents) render every PDF with pdftoppm and read its text with pdftotext and its fonts with pdffonts' },
  { command: 'soffice', package: 'libreoffice-calc', why: 'the documents tests (test/documents) open an exported workbook with LibreOffice headless to prove another program reads it' },
];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const present = (entry) => (entry.file === undefined ? has(entry.command) : existsSync(entry.file));
const missing = required.filter((entry) => !present(entry));
if (missing.length === 0) process.exit(0);

const names = [...new Set(missing.map((entry) => entry.package))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get')) {
  console.error('The test suite needs these system packages, which are missing:');
  for (const entry of missing) console.error(`  ${entry.package}: ${entry.why}`);
  console.error(`Install them (e.g. sudo apt-get install -y ${names.join(' ')}) and run the tests again.`);
  process.exit(1);
}
console.error(`installing system packages for the tests: ${names.join(', ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { stdio: 'inherit', env });
// Where the package starts FreeRADIUS as a service, stop it: it would hold UDP 1812/1813, which `npm start`'s
// radius role binds (the tests start their own FreeRADIUS on free ports).
if (names.includes('freeradius')) spawnSync('sh', ['-c', 'service freeradius stop >/dev/null 2>&1 || true'], { stdio: 'ignore' });
const still = missing.filter((entry) => !present(entry));
if (still.length > 0) {
  console.error(`still missing after apt-get: ${still.map((entry) => entry.command ?? entry.file).join(', ')}`);
  process.exit(1);
}
