import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { flows } from '../flows';
import type { FlowInput, FlowOutput, Lang, Msg } from '../flows/types';
import { screenOf } from '../src/engine/conversation';
import { renderPages } from '../src/engine/screen';
import { airBits, withinBudget } from './helpers/budget';
import { catalogues, isMessageKey } from '../src/i18n';
import demo from '../seeds/data/demo.json';
import centres from '../seeds/data/huduma_centres.json';

/**
 * Walks every flow in the registry (flows/index.ts) with xstate/graph: every state reachable with
 * the citizen's inputs and with every outcome of every lookup, and for each one that shows a screen
 * (a prompt or a final state), renders it in both languages with worst-case data and checks every
 * page fits the screen limit. A new flow is walked automatically; a new lookup (invoked actor)
 * needs its possible outputs added to SAMPLES below, and the test says so.
 */

// ---- worst-case data -----------------------------------------------------------------------

const LANGS: Lang[] = ['en', 'sw'];
/** The default USSD budget and the smallest USSD_SCREEN_LIMIT the config accepts. */
const LIMITS = [160, 60];
const NOTICES: Array<Msg | undefined> = [undefined, { key: 'error.invalid_choice' }, { key: 'session.restarted' }];

/** A label's worst length over both languages. */
const labelLength = (prefix: string, code: string) => Math.max(...LANGS.map((l) => (catalogues[l] as Record<string, string>)[`${prefix}.${code}`]?.length ?? code.length));
const byLongest = <T>(xs: T[], len: (x: T) => number) => [...xs].sort((a, b) => len(b) - len(a));

const TYPES = byLongest(Object.keys(demo.application_types), (t) => labelLength('type', t));
const STATUSES = Object.keys(demo.statuses);
const REASONS = byLongest(Object.keys(demo.reasons), (r) => labelLength('reason', r));
const CENTRE_NAMES = byLongest(centres.map((c) => c.name), (n) => n.length);
const LONGEST_CENTRE = CENTRE_NAMES[0] as string;
const SHORT_NAMES = byLongest(centres.map((c) => c.name.replace(/^Huduma Centre /, '')), (n) => n.length);
const SERVICES = byLongest(demo.services.map((s) => s.code), (s) => labelLength('svc', s));
const REGIONS = byLongest([...new Set(centres.map((c) => c.region ?? 'Other'))].filter(Boolean) as string[], (r) => r.length);
const REFERENCE = '1026100200488';

/** One application per status, with the longest type label, the longest centre and a reason where one can be. */
const APPS = STATUSES.flatMap((status) =>
  TYPES.slice(0, 2).map((type) => ({
    reference: REFERENCE,
    type,
    status,
    reason: status === 'QUERY_RAISED' || status === 'REJECTED' ? (REASONS[0] as string) : null,
    centre: LONGEST_CENTRE,
  })),
);
const LONG_LIST = Array.from({ length: 12 }, (_, i) => APPS[i % APPS.length]);

/** Days that give the longest weekday and month names in both languages. */
const DAYS = ['2026-09-30', '2026-11-26', '2026-12-26', '2027-01-27', '2026-11-28', '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04'];
const TIMES = Array.from({ length: 18 }, (_, i) => `${String(8 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`);
const CENTRE_REF = { code: 'laikipia-makutano', name: SHORT_NAMES[0] as string };
const APPOINTMENT = { id: 1, code: '48291573', service: SERVICES[0] as string, centre: CENTRE_REF, day: DAYS[0] as string, time: '16:30' };

/** Every output each lookup can give, keyed by the actor's name in `setup({ actors })`. */
const SAMPLES: Record<string, unknown[]> = {
  saveLanguage: [undefined],
  undeliveredCode: [null, { code: '482915', validUntil: '23:59' }],
  // The longest centre name of the data, for the screen budget.
  pendingConsent: [null, { code: '482915', centre: LONGEST_CENTRE }],
  listMyApplications: [[], [APPS[0]], LONG_LIST],
  lookupApplication: [{ kind: 'needId' }, ...APPS.map((app) => ({ kind: 'found', app }))],
  verifyApplication: [{ kind: 'nomatch' }, { kind: 'locked' }, ...APPS.map((app) => ({ kind: 'found', app }))],
  verifyPhoneHolder: ['yes', 'no', 'locked'],
  subscribe: [undefined],
  prepareReset: [{ kind: 'ok', idRef: 'f'.repeat(64) }, { kind: 'locked' }],
  resetLoginCode: [{ kind: 'issued', code: '482915', validUntil: '23:59' }, { kind: 'wrong_phone' }, { kind: 'mismatch' }, { kind: 'locked' }, { kind: 'too_many_resets' }],
  listBookableServices: [[], SERVICES],
  centreChoices: [
    { kind: 'ok', last: CENTRE_REF, regions: REGIONS },
    { kind: 'ok', last: null, regions: REGIONS.slice(0, 2) },
    { kind: 'ok', last: null, regions: [] },
    { kind: 'duplicate', existing: APPOINTMENT },
    { kind: 'limit' },
  ],
  listCentres: [SHORT_NAMES.slice(0, 12).map((name, i) => ({ code: `c${i}`, name }))],
  listOpenDays: [[], DAYS],
  listFreeTimes: [[], TIMES, ['16:30']],
  bookAppointment: [{ kind: 'booked', code: '48291573' }, { kind: 'taken' }, { kind: 'duplicate', existing: APPOINTMENT }, { kind: 'limit' }],
  listMyAppointments: [[], [APPOINTMENT], Array.from({ length: 12 }, (_, i) => ({ ...APPOINTMENT, id: i + 1 }))],
  cancelAppointment: [{ kind: 'cancelled' }, { kind: 'gone' }],
  moveAppointment: [{ kind: 'moved', code: '48291573' }, { kind: 'taken' }, { kind: 'gone' }],
};

/** What a citizen can type: menu choices, and answers to the text prompts (good and bad). */
const TYPED = ['1', '2', '3', '4', '5', '6', '7', '8', '9', REFERENCE, '1026100200489', '12345', 'abc', '23456789', '1990', '1800'];
/** Inputs every flow may be started with (each flow ignores what it does not use). */
const STARTS: FlowInput[] = [{}, { firstDial: true }, { service: 'ecitizen_support' }, { undeliveredCode: true }, { consentCode: true }, { consentCode: true, undeliveredCode: true }];

// ---- the machine's shape -------------------------------------------------------------------

interface NodeLike {
  id: string;
  type: string;
  states: Record<string, NodeLike>;
  invoke: Array<{ id: string; src: unknown }>;
  always?: unknown[];
}

function nodesOf(machine: AnyStateMachine): NodeLike[] {
  const out: NodeLike[] = [];
  const walk = (n: NodeLike) => {
    out.push(n);
    for (const c of Object.values(n.states ?? {})) walk(c);
  };
  walk(machine.root as unknown as NodeLike);
  return out;
}

const srcName = (src: unknown): string => (typeof src === 'string' ? src : String((src as { id?: string })?.id ?? src));

/** The xstate.done.actor.* events of every invoke, one per sample output. */
function doneEvents(machine: AnyStateMachine): AnyEventObject[] {
  return nodesOf(machine).flatMap((n) =>
    (n.invoke ?? []).flatMap((inv) => (SAMPLES[srcName(inv.src)] ?? []).map((output) => ({ type: `xstate.done.actor.${inv.id}`, output }))),
  );
}

const activeNodes = (s: AnyMachineSnapshot): NodeLike[] => ((s as unknown as { _nodes: NodeLike[] })._nodes ?? []).filter((n) => n.type === 'atomic' || n.type === 'final');

const FOOTERS = new Set(LANGS.flatMap((l) => ['nav.more', 'nav.back', 'nav.home', 'nav.end'].filter(isMessageKey).map((k) => catalogues[l][k])));

// ---- the walk ------------------------------------------------------------------------------

const pagesOf = (s: AnyMachineSnapshot, lang: Lang, limit = 160): string[] => renderPages(screenOf(s), { lang, limit, final: s.status === 'done' });
const showsScreen = (s: AnyMachineSnapshot) => (s.status === 'done' ? !(s.output as FlowOutput | undefined)?.goto : s.hasTag('prompt'));

/**
 * States are told apart by what the citizen sees and by the flow's counters, not by every byte of
 * context: otherwise data left behind by Back (the last list, the last choice) multiplies the graph
 * without showing anything new. Lists in the samples put their worst case first, and that is the
 * one the walk follows.
 */
function serialize(s: AnyMachineSnapshot): string {
  const counters = Object.entries((s.context ?? {}) as Record<string, unknown>).filter(([, v]) => typeof v === 'number' || typeof v === 'boolean');
  const screen = showsScreen(s) ? LANGS.map((l) => pagesOf(s, l).join('\n')).join('\n') : '';
  return JSON.stringify([s.value, s.status, counters, screen, s.output ?? null]);
}

/**
 * What a citizen can type here: every item of a menu (up to 5 items); the first, second and last
 * item of a longer list of data (its worst case comes first) and one past the end; or, where no
 * list is shown, the text answers.
 */
function eventsFor(machine: AnyStateMachine) {
  const done = doneEvents(machine);
  return (s: AnyMachineSnapshot): AnyEventObject[] => {
    const items = s.hasTag('prompt') ? (screenOf(s).items?.length ?? 0) : 0;
    const picks = items <= 5 ? Array.from({ length: items }, (_, i) => i + 1) : [1, 2, items];
    const typed = items > 0 ? [...picks, items + 1].map(String) : TYPED;
    return [...typed.map((value) => ({ type: 'INPUT', value })), { type: 'BACK' }, { type: 'REVERIFY' }, ...done];
  };
}

describe.each(Object.values(flows).map((f) => [f.name, f] as const))('flow %s', (_name, def) => {
  const machine = def.machine;

  test('every lookup it invokes has sample outputs here', () => {
    const missing = nodesOf(machine).flatMap((n) => (n.invoke ?? []).map((i) => srcName(i.src))).filter((src) => !SAMPLES[src]);
    expect({ flow: def.name, actorsWithoutSamples: missing }).toEqual({ flow: def.name, actorsWithoutSamples: [] });
  });

  const reached = new Map<string, AnyMachineSnapshot>();
  const walk = () => {
    if (reached.size > 0) return reached;
    for (const input of STARTS) {
      for (const path of getShortestPaths(machine, { events: eventsFor(machine), serializeState: serialize, input, limit: 500_000 } as never)) {
        const s = path.state as AnyMachineSnapshot;
        reached.set(serialize(s), s);
      }
    }
    return reached;
  };

  test('every state can be reached', () => {
    const seen = new Set([...walk().values()].flatMap((s) => activeNodes(s).map((n) => n.id)));
    // States with an eventless (`always`) transition are passed through, never stopped in.
    const all = nodesOf(machine).filter((n) => (n.type === 'atomic' || n.type === 'final') && !(n.always ?? []).length).map((n) => n.id);
    expect(all.filter((id) => !seen.has(id))).toEqual([]);
  });

  test('every state the engine can stop in shows a screen, hands over to a registered flow, or is looking something up', () => {
    const problems: string[] = [];
    for (const s of walk().values()) {
      const out = (s.output ?? {}) as FlowOutput;
      if (s.status === 'done' && out.goto) {
        if (!flows[out.goto]) problems.push(`${JSON.stringify(s.value)} goes to unknown flow ${out.goto}`);
      } else if (s.status === 'done' || s.hasTag('prompt')) {
        try {
          screenOf(s);
        } catch (e) {
          problems.push(`${JSON.stringify(s.value)}: ${(e as Error).message}`);
        }
      } else if (s.status !== 'active' || !activeNodes(s).some((n) => (n.invoke ?? []).length > 0)) {
        // The engine waits for a prompt or a final state: anything else would wait until the deadline.
        problems.push(`${JSON.stringify(s.value)} (${s.status}) is neither a prompt, nor final, nor looking something up`);
      }
    }
    expect(problems).toEqual([]);
  });

  test.each(LIMITS)('every screen fits %i characters a page in both languages, with and without a notice; no page is empty', (limit) => {
    const problems: string[] = [];
    let screens = 0;
    for (const s of walk().values()) {
      if (!showsScreen(s)) continue;
      const screen = screenOf(s);
      const final = s.status === 'done';
      for (const lang of LANGS) {
        for (const notice of NOTICES) {
          const pages = renderPages(screen, { lang, limit, final, ...(notice ? { notice } : {}) });
          screens++;
          pages.forEach((page, i) => {
            const where = `${def.name} ${JSON.stringify(s.value)} ${lang} page ${i + 1}/${pages.length}`;
            if (!withinBudget(page, limit)) problems.push(`${where} over ${limit}:\n${page}`);
            if (!page.split('\n').some((l) => l.trim() !== '' && !FOOTERS.has(l))) problems.push(`${where} has nothing but navigation:\n${page}`);
            if (/\{\w+\}/.test(page)) problems.push(`${where} has an unfilled parameter:\n${page}`);
          });
        }
      }
    }
    expect(screens).toBeGreaterThan(0);
    expect(problems.slice(0, 10)).toEqual([]);
  });
});

test('the budget is counted independently of the code under test: 7 bits a GSM-7 character, 14 for ^{}[~]|€, 16 a UCS-2 unit', () => {
  expect(airBits('Reset login code')).toBe(7 * 16);
  expect(airBits('Murang€a')).toBe(7 * 9);
  expect(airBits('Ñyeri è')).toBe(7 * 7);
  expect(airBits('Murang’a')).toBe(16 * 8); // a curly apostrophe makes the whole text UCS-2
  expect([withinBudget('a'.repeat(160), 160), withinBudget('a'.repeat(161), 160)]).toEqual([true, false]);
  expect([withinBudget('ł'.repeat(70), 160), withinBudget('ł'.repeat(71), 160)]).toEqual([true, false]);
  expect([withinBudget('{'.repeat(80), 160), withinBudget('{'.repeat(81), 160)]).toEqual([true, false]);
});
