#!/usr/bin/env node
// Installs the Debian packages the test suite drives as real peers, when they are missing and we can
// (root + apt-get). Each entry names the command the tests run and the package that provides it.
import { execFileSync, spawnSync } from 'node:child_process';

const required = [
  { command: 'docker-compose', package: 'docker-compose', why: 'validates docker-compose.yml (docker-compose config)' },
];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = required.filter((entry) => !has(entry.command));
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
const still = missing.filter((entry) => !has(entry.command));
if (still.length > 0) {
  console.error(`still missing after apt-get: ${still.map((entry) => entry.command).join(', ')}`);
  process.exit(1);
}
