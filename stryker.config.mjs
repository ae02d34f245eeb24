// Mutation testing (`npm run mutate`): Stryker changes one thing at a time (a condition, an operator,
// a string) in the modules where a wrong line loses or leaks data, runs the tests that cover it, and
// reports the mutants no test noticed. Not in CI: slow on 2 cores, with real PostgreSQL and Redis
// under every test. See README "Mutation testing".
//
//   npm run mutate                    every module below
//   MUTATE=log npm run mutate         one module (names below, comma-separated for several)

/** Each module with the test files that exercise it (only these run against its mutants). */
const MODULES = {
  engine: { files: ['src/engine/engine.ts', 'src/engine/conversation.ts'], tests: ['test/engine/*.test.ts', 'test/transcripts.test.ts'] },
  appointments: { files: ['src/services/appointments.ts'], tests: ['test/booking.test.ts', 'test/booking-concurrency.test.ts'] },
  reset: { files: ['src/services/reset.ts'], tests: ['test/reset/*.test.ts'] },
  worker: { files: ['src/sms/worker.ts'], tests: ['test/sms/worker.test.ts', 'test/sms/scrub.test.ts', 'test/sms/delivery.test.ts'] },
  'delivery-reports': { files: ['src/sms/delivery-reports.ts'], tests: ['test/sms/delivery.test.ts'] },
  inbox: { files: ['src/channels/sms/inbox.ts'], tests: ['test/sms-channel/*.test.ts'] },
  log: { files: ['src/log.ts'], tests: ['test/log-redaction.test.ts'] },
  'staff-auth': { files: ['src/services/audit-query.ts', 'src/channels/staff/session.ts'], tests: ['test/staff/api.test.ts', 'test/staff/console.test.ts'] },
};

// Jest runs again and again in Stryker's test process: keep the test template database between runs
// (test/helpers/global-setup.ts) instead of migrating and seeding a new one for every mutant.
process.env.SIMU_TEST_KEEP_TEMPLATE = '1';

const chosen = (process.env.MUTATE ?? Object.keys(MODULES).join(',')).split(',').map((m) => m.trim());
for (const m of chosen) if (!MODULES[m]) throw new Error(`MUTATE: unknown module ${m}; one of ${Object.keys(MODULES).join(', ')}`);
const modules = chosen.map((m) => MODULES[m]);
/** Reports and the incremental cache per choice of modules, so a run of one module keeps another's results. */
const tag = process.env.MUTATE ? chosen.join('+') : 'all';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: {
    configFile: 'jest.config.js',
    // Only the chosen modules' tests: without this every test file importing a mutated module
    // (nearly all import src/log.ts) would run, each with its own database copy.
    config: { testMatch: modules.flatMap((m) => m.tests).map((t) => `<rootDir>/${t}`) },
    // Off: jest's --findRelatedTests only follows imports inside its roots (test/), so it finds no
    // test for a module reached through src/runtime.ts; the list above is the selection instead.
    enableFindRelatedTests: false,
  },
  mutate: modules.flatMap((m) => m.files),
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // Each mutant runs only the tests that executed its line in the first run.
  coverageAnalysis: 'perTest',
  // One test process: the machine has 2 cores, shared.
  concurrency: 1,
  // Tests wait on real I/O (hop deadlines, the fake AT): a generous margin before a mutant counts as a hang.
  timeoutMS: 30000,
  timeoutFactor: 2,
  // A re-run only tests mutants whose code or covering tests changed (the file is a local cache, gitignored).
  incremental: true,
  incrementalFile: `reports/stryker-incremental-${tag}.json`,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${tag}.html` },
  jsonReporter: { fileName: `reports/mutation/${tag}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['dist', 'coverage', 'reports', '.stryker-tmp'],
};
