/**
 * `npm run staff:add -- --username wanjiru --name "Wanjiru Njoroge" --role supervisor --centre nairobi-gpo [--token]`
 *
 * Creates a Huduma Centre staff account. The password is asked for twice on a terminal without
 * echo, or read from the first line of standard input when that is not a terminal
 * (`printf '%s\n' "$PW" | npm run staff:add -- ...`). Never as a flag: flags end up in shell
 * history and in `ps`. `--token` also issues an API token for the JSON API and prints it once.
 * Reads DATABASE_URL (and ID_HASH_KEY) like the gateway; migrates the database first.
 */
import { parseArgs } from 'node:util';
import { loadConfig, withDevDefaults } from '../config';
import { openMigrated } from '../db';
import { chooseDatabase } from '../db/choose';
import { PostgresStore } from '../store';
import { BlindIndex } from '../services/blind-index';
import { MIN_PASSWORD_LENGTH } from '../services/passwords';
import { ROLES, StaffService } from '../services/staff';

const USAGE = `usage: npm run staff:add -- --username NAME --name "FULL NAME" --role ${ROLES.join('|')} --centre CENTRE_CODE [--token]
  The password is prompted for (no echo), or read from stdin when stdin is not a terminal.`;

/** Reads one line from a terminal without echoing it (raw mode; Backspace and Ctrl-C handled). */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      username: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, centre: { type: 'string' },
      token: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help || !values.username || !values.name || !values.role || !values.centre) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  let password: string;
  if (process.stdin.isTTY) {
    password = await promptHidden(`Password for ${values.username} (at least ${MIN_PASSWORD_LENGTH} characters): `);
    if ((await promptHidden('Again: ')) !== password) {
      process.stderr.write('The two passwords differ. Nothing was created.\n');
      return 1;
    }
  } else {
    password = await readStdinLine();
  }

  const env = withDevDefaults();
  // The database npm start uses: beside a gateway on the embedded server, that server (see src/db/choose.ts).
  const database = await chooseDatabase(env, { database: 'simu' });
  env.DATABASE_URL = database.url;
  const config = loadConfig(env);
  const db = await openMigrated(config.DATABASE_URL).catch(async (err: unknown) => {
    await database.stop();
    throw err;
  });
  // The login limiter is never used here: no Redis needed, none opened.
  const store = new PostgresStore(db, config.REDIS_PREFIX, { sweepEveryMs: 0 });
  try {
    const staff = new StaffService({ db, store, blind: new BlindIndex(config.ID_HASH_KEY) });
    const r = await staff.create({ username: values.username, name: values.name, role: values.role, centreCode: values.centre, password }, null);
    if (r.kind !== 'created') {
      const why: Record<string, string> = {
        bad_username: 'the username must be 2-64 characters: lower-case letters, digits, dot, dash, underscore',
        username_taken: 'that username is taken',
        bad_role: `the role must be one of ${ROLES.join(', ')}`,
        unknown_centre: `no centre has the code ${values.centre} (see seeds/data/huduma_centres.json)`,
        too_short: `the password needs at least ${MIN_PASSWORD_LENGTH} characters`,
        too_long: 'the password is too long',
        same_as_username: 'the password must not contain the username',
        bad_name: 'the name must have 2 to 120 characters',
      };
      process.stderr.write(`Not created: ${why[r.kind] ?? r.kind}.\n`);
      return 1;
    }
    process.stdout.write(`Created ${r.staff.role} ${r.staff.username} (${r.staff.name}) at ${r.staff.centreName}. Log in at /staff/login.\n`);
    if (values.token) {
      const issued = await staff.issueToken(null, r.staff.id, 'staff:add');
      if (issued.kind === 'issued') process.stdout.write(`API token (shown once; send it as "Authorization: Bearer ..."): ${issued.token}\n`);
    }
    return 0;
  } finally {
    await store.close();
    await db.destroy();
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`staff:add failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
