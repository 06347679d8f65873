/**
 * The chaos checker: what must hold after a run, checked from what the run
 * observed (pure functions; chaos-run.ts gathers the observations).
 *
 * 1. No node process exits unless the nemesis killed or stopped it (a
 *    SIGTERM must end in exit code 0). A crash shows its stderr.
 * 2. No acknowledged create or touch is lost: a session whose create was
 *    acknowledged, and that no delete or revokeAll could have ended, is
 *    readable on every node at the end, with at least the expiry its last
 *    acknowledged touch gave it.
 * 3. No session is readable on any node after an acknowledged delete of it,
 *    or an acknowledged revokeAll of its user sent after its create was
 *    acknowledged — wherever those ran, either side of a partition.
 * 4. After the last fault, all nodes hold identical data (digest) within 2 s.
 * 5. At the end every node is linked to all others, has no unhealed peer,
 *    and its health indicator says "up".
 * 6. No call to a node that stayed up waits over 2 s for its answer.
 * 7. After every fault (but the last, which 4 and 5 cover), the cluster is
 *    whole again — linked, nothing unhealed — within 5 s.
 *
 * A call is acknowledged when it answered without an error. A write that
 * got no answer (its node was killed, or the run ended) or an error is
 * uncertain: it may or may not have happened, so it is counted as having
 * happened where that can only excuse a session (2: any delete sent; any
 * revokeAll not acknowledged before the create was sent) and not at all
 * where it would accuse one (3 uses acknowledged sign-outs only).
 */
import { SessionCache } from '@app/cluster-cache';
import { describeExit, errorSummary, NodeProcess, NodeState } from './node-process';
import type { Recovery } from './nemesis';
import { short, Timeline, TimelineEntry } from './timeline';
import { acknowledged, Operation } from './workload';

/** A stored state of the sessions table, as the fixture's `dump` gives it. */
export interface DumpedState {
  ns: string;
  key: unknown;
  version: number;
  seen: number;
  origin: string;
  tombstone: boolean;
  expiresAt: number;
}

/** Everything the run observed, for the checks. */
export interface Observations {
  names: string[];
  /** Every run of each node, in `names` order. */
  runs: NodeProcess[][];
  timeline: Timeline;
  ops: Operation[];
  /** How the cluster came back after each fault but the last. */
  recoveries: Recovery[];
  /** When the last fault ended (the final heal, or the last restarted node up). */
  lastFaultEndedAt: number;
  /** When the digests of all nodes were first identical after that; undefined if they never were. */
  identicalAt: number | undefined;
  /** How long the run waited for that, in ms. */
  waitedMs: number;
  /** Each node's state at the end (undefined: down or no answer). */
  finalStates: Array<NodeState | undefined>;
  /** Tokens of every acknowledged create, and per node what `get` read for each at the end (its expiresAt, or null); undefined: the node could not be read. */
  tokens: string[];
  reads: Array<Array<number | null> | undefined>;
  /** When those reads were made. */
  readAt: number;
  /** Each node's stored states, taken when the digests still differed at the limit or at the end (to show how). */
  dumps: { at: number; states: Array<DumpedState[] | undefined> } | undefined;
}

/** What one check found. */
export interface CheckResult {
  title: string;
  ok: boolean;
  summary: string;
  /** What made it fail (or notes), line by line. */
  evidence: string[];
}

/** The checker's limits. */
export interface CheckLimits {
  /** After the final heal, all nodes must be identical within this many ms. */
  convergenceMs: number;
  /** No call to a node that stayed up may wait longer than this for its answer, in ms. */
  answerMs: number;
  /** After each fault, every node must be linked to all others with nothing unhealed within this many ms. */
  recoveryMs: number;
}

export const DEFAULT_LIMITS: CheckLimits = { convergenceMs: 2_000, answerMs: 2_000, recoveryMs: 5_000 };

/** How many failures of one kind are shown in full (the rest are counted). */
const SHOWN = 8;
/** A session that expires this soon after the reads is not expected to be readable, in ms. */
const EXPIRY_MARGIN = 60_000;
/** Expiry times of writes made at once on two nodes may differ by this much (their clocks are read at different moments), in ms. */
const EXPIRY_SLACK = 1_000;

/** Runs every check. */
export function check(o: Observations, limits: CheckLimits = DEFAULT_LIMITS): CheckResult[] {
  const history = new History(o.ops);
  return [
    processesExitOnlyWhenTold(o),
    noAcknowledgedWriteLost(o, history),
    noEndedSessionReadable(o, history),
    nodesIdentical(o, history, limits),
    healedAndHealthy(o),
    noStalledCall(o, limits),
    reformedAfterEveryFault(o, limits),
  ];
}

/** The operations, indexed by token and by user. */
class History {
  readonly creates = new Map<string, Operation>();
  private readonly byToken = new Map<string, Operation[]>();
  private readonly revokesByUser = new Map<string, Operation[]>();

  constructor(readonly ops: Operation[]) {
    for (const op of ops) {
      if (op.name === 'create' && acknowledged(op)) this.creates.set((op.result as { token: string }).token, op);
      if (op.token !== undefined) push(this.byToken, op.token, op);
      if (op.name === 'revokeAll') push(this.revokesByUser, op.user!, op);
    }
  }

  /** Every call about this token (touch, delete, get). */
  of(token: string): Operation[] {
    return this.byToken.get(token) ?? [];
  }

  deletes(token: string): Operation[] {
    return this.of(token).filter((op) => op.name === 'delete');
  }

  revokes(user: string): Operation[] {
    return this.revokesByUser.get(user) ?? [];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

// 1 ────────────────────────────────────────────────────────────────────────

function processesExitOnlyWhenTold(o: Observations): CheckResult {
  const evidence: string[] = [];
  let runs = 0;
  let failures = 0;
  for (const node of o.runs.flat()) {
    runs++;
    const exit = node.exit;
    if (exit === undefined) continue;
    const signalled = node.signalledAt;
    let problem: string | undefined;
    if (signalled === undefined) problem = `exited ${describeExit(exit)}; no fault did that`;
    else if (signalled.signal === 'SIGTERM' && exit.code !== 0) problem = `exited ${describeExit(exit)} after SIGTERM: the graceful shutdown failed`;
    if (problem === undefined) continue;
    failures++;
    evidence.push(`${short(node.name)} run ${node.run} (pid ${node.pid}) ${problem}, at ${o.timeline.since(exit.at)}: ${errorSummary(node.stderr)}`);
    evidence.push(...indent('stderr', node.stderr.split('\n').filter(Boolean).slice(0, 14)));
    evidence.push(...indent('last logs', node.logs.filter((l) => l.level !== 'debug').slice(-6).map((l) => `${o.timeline.since(l.at)} ${l.level.toUpperCase()} ${l.message}`)));
    evidence.push(...indent('last events', node.events.slice(-5).map((e) => `${o.timeline.since(e.at)} ${JSON.stringify(e.event)}`)));
  }
  return {
    title: '1. no node process exits unless the nemesis killed or stopped it',
    ok: failures === 0,
    summary: failures === 0 ? `all ${runs} runs ended only when told to` : `${failures} of ${runs} runs exited on their own`,
    evidence,
  };
}

// 2 ────────────────────────────────────────────────────────────────────────

function noAcknowledgedWriteLost(o: Observations, history: History): CheckResult {
  const evidence: string[] = unreadableNodes(o);
  let checked = 0;
  let lost = 0;
  let expiring = 0;
  o.tokens.forEach((token, t) => {
    const create = history.creates.get(token)!;
    // Any delete of it, or any revokeAll of its user not over before the create was sent, may have ended it.
    if (history.deletes(token).length > 0) return;
    if (history.revokes(create.user!).some((r) => !(acknowledged(r) && r.answeredAt! < create.sentAt))) return;
    const renewals = [create, ...history.of(token).filter((op) => op.name === 'touch' && acknowledged(op) && op.result !== null)];
    const expiresAt = Math.max(...renewals.map((op) => (op.result as { expiresAt: number }).expiresAt));
    if (expiresAt < o.readAt + EXPIRY_MARGIN) return void expiring++;
    checked++;
    const missing: string[] = [];
    const shortened: string[] = [];
    o.reads.forEach((reads, n) => {
      if (reads === undefined) return;
      if (reads[t] === null) missing.push(short(o.names[n]));
      else if (reads[t]! < expiresAt - EXPIRY_SLACK) shortened.push(`${short(o.names[n])} (expires ${o.timeline.since(reads[t]!)} instead of ${o.timeline.since(expiresAt)})`);
    });
    if (missing.length === 0 && shortened.length === 0) return;
    if (++lost > SHOWN) return;
    const what = [missing.length > 0 ? `not readable on ${missing.join(', ')}` : '', shortened.length > 0 ? `a renewal lost on ${shortened.join(', ')}` : ''].filter(Boolean).join('; ');
    evidence.push(`session ${tokenName(token)} of ${create.user}: ${what}`);
    evidence.push(...indent('its calls', describeCalls(o, [create, ...history.of(token)])));
  });
  if (lost > SHOWN) evidence.push(`… and ${lost - SHOWN} more sessions`);
  const unreadable = o.reads.filter((r) => r === undefined).length;
  return {
    title: '2. no acknowledged create or touch lost',
    ok: lost === 0 && unreadable === 0,
    summary:
      `${lost} of ${checked} sessions that nothing could have ended are missing or shortened somewhere` +
      (unreadable > 0 ? `; ${unreadable} node(s) could not be read` : '') +
      ` (${o.tokens.length} acknowledged creates; ${o.tokens.length - checked - expiring} possibly ended by a delete or revokeAll; ${expiring} expiring)`,
    evidence,
  };
}

// 3 ────────────────────────────────────────────────────────────────────────

function noEndedSessionReadable(o: Observations, history: History): CheckResult {
  const evidence: string[] = unreadableNodes(o);
  let ended = 0;
  let back = 0;
  const kinds = new Map<string, number>();
  o.tokens.forEach((token, t) => {
    const create = history.creates.get(token)!;
    const deletes = history.deletes(token).filter(acknowledged);
    const revokes = history.revokes(create.user!).filter((r) => acknowledged(r) && r.sentAt > create.answeredAt!);
    if (deletes.length === 0 && revokes.length === 0) return;
    ended++;
    const readable = o.reads.flatMap((reads, n) => (reads !== undefined && reads[t] !== null ? [short(o.names[n])] : []));
    if (readable.length === 0) return;
    back++;
    const kind = endingKind(o, create, [...deletes, ...revokes]);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (back > SHOWN) return;
    evidence.push(`session ${tokenName(token)} of ${create.user} is readable on ${readable.join(', ')} after ${kind}`);
    evidence.push(...indent('its calls', describeCalls(o, [create, ...history.of(token), ...revokes])));
  });
  if (back > SHOWN) evidence.push(`… and ${back - SHOWN} more sessions`);
  const byKind = [...kinds].map(([kind, n]) => `${n} after ${kind}`).join('; ');
  return {
    title: '3. no session readable after an acknowledged delete or revokeAll',
    ok: back === 0 && o.reads.every((r) => r !== undefined),
    summary: `${back} of ${ended} ended sessions are readable again on some node` + (byKind ? ` (${byKind})` : ''),
    evidence,
  };
}

/**
 * Why a sign-out may not have reached a session, most telling first: a
 * delete on a node that had not seen it, a sign-out on the other side of a
 * partition, or neither.
 */
function endingKind(o: Observations, create: Operation, enders: Operation[]): string {
  const kinds = enders.map((ender) => {
    const island = o.timeline.islandOf(ender.node, ender.sentAt);
    const apart = island !== undefined && !island.includes(create.node) && o.timeline.islandOf(create.node, create.sentAt) !== undefined;
    const side = apart ? ' on the other side of a partition' : '';
    if (ender.name === 'delete' && ender.result === false) return { rank: 0, text: `a delete${side} on a node that had not seen it` };
    return { rank: apart ? 1 : 2, text: `a ${ender.name}${side}` };
  });
  return kinds.sort((a, b) => a.rank - b.rank)[0].text;
}

// 4 ────────────────────────────────────────────────────────────────────────

function nodesIdentical(o: Observations, history: History, limits: CheckLimits): CheckResult {
  const digests = o.finalStates.map((s) => s?.digest);
  const same = digests.every((d) => d !== undefined && d === digests[0]);
  const took = o.identicalAt === undefined ? undefined : o.identicalAt - o.lastFaultEndedAt;
  const ok = same && took !== undefined && took <= limits.convergenceMs;
  const evidence: string[] = [];
  if (!ok) {
    evidence.push(`the last fault ended ${o.timeline.since(o.lastFaultEndedAt)}: ${o.timeline.before(o.lastFaultEndedAt, 1, 'fault')[0]?.text ?? ''}`);
    o.finalStates.forEach((s, n) =>
      evidence.push(`${short(o.names[n])}: ${s === undefined ? 'no answer' : `digest ${fingerprint(s.digest)}, peers ${s.peers.map(short).join(' ') || '(none)'}, unhealed ${s.unhealed.map(short).join(' ') || '-'}`}`),
    );
    if (o.dumps !== undefined) evidence.push(...differences(o, history));
    evidence.push(...recentWarnings(o, o.lastFaultEndedAt - 5_000));
  }
  return {
    title: `4. after the final heal, all nodes identical within ${limits.convergenceMs / 1000} s`,
    ok,
    summary:
      took === undefined
        ? `not identical ${(o.waitedMs / 1000).toFixed(1)} s after the last fault ended`
        : `identical ${took} ms after the last fault ended` + (same ? '' : ', but they differ again at the end'),
    evidence,
  };
}

/** Keys whose stored state differs between nodes, with the session they belong to. */
function differences(o: Observations, history: History): string[] {
  const byKey = new Map<string, Array<DumpedState | undefined>>();
  o.dumps!.states.forEach((dump, n) => {
    for (const state of dump ?? []) {
      const key = `${state.ns}/${JSON.stringify(state.key)}`;
      if (!byKey.has(key)) byKey.set(key, new Array(o.names.length).fill(undefined));
      byKey.get(key)![n] = state;
    }
  });
  const handles = new Map(o.tokens.map((token) => [SessionCache.handleOf(token), token]));
  const lines: string[] = [`stored states that differ at ${o.timeline.since(o.dumps!.at)}:`];
  let count = 0;
  for (const [key, states] of byKey) {
    const shown = states.map((s) => (s === undefined ? '—' : `${s.tombstone ? 'deleted' : 'live'} v${s.version} seen ${s.seen} by ${short(s.origin)}`));
    if (new Set(shown).size === 1) continue;
    if (++count > SHOWN) continue;
    const token = typeof (states.find(Boolean)?.key) === 'string' ? handles.get(states.find(Boolean)!.key as string) : undefined;
    lines.push(`  ${key.slice(0, 24)}…${token ? ` (session ${tokenName(token)})` : ''}: ${shown.map((s, n) => `${short(o.names[n])} ${s}`).join(' | ')}`);
    if (token !== undefined) lines.push(...indent('  its calls', describeCalls(o, [history.creates.get(token)!, ...history.of(token)])));
  }
  if (count > SHOWN) lines.push(`… and ${count - SHOWN} more keys differ`);
  return lines;
}

// 5 ────────────────────────────────────────────────────────────────────────

function healedAndHealthy(o: Observations): CheckResult {
  const evidence: string[] = [];
  let bad = 0;
  o.finalStates.forEach((state, n) => {
    const name = o.names[n];
    if (state === undefined) {
      bad++;
      return void evidence.push(`${short(name)}: no answer to "state" (down?)`);
    }
    const missing = o.names.filter((other) => other !== name && !state.peers.includes(other));
    if (state.unhealed.length === 0 && state.health === 'up' && missing.length === 0) return;
    bad++;
    evidence.push(
      `${short(name)}: health ${state.health}${state.healthMessage ? ` (${state.healthMessage})` : ''}` +
        (state.unhealed.length > 0 ? `, unhealed ${state.unhealed.map(short).join(' ')}` : '') +
        (missing.length > 0 ? `, not linked to ${missing.map(short).join(' ')}` : ''),
    );
    const run = o.runs[n].at(-1)!;
    for (const peer of [...state.unhealed, ...missing]) {
      const about = (text: string) => text.includes(peer);
      const lines = [
        ...run.events.filter((e) => 'node' in e.event && e.event.node === peer).slice(-6).map((e) => ({ at: e.at, text: `event ${JSON.stringify(e.event)}` })),
        ...run.logs.filter((l) => l.level !== 'debug' && about(l.message)).slice(-6).map((l) => ({ at: l.at, text: `${l.level.toUpperCase()} ${l.message}` })),
      ];
      evidence.push(...indent(`${short(name)} about ${short(peer)}`, lines.sort((a, b) => a.at - b.at).map((l) => `${o.timeline.since(l.at)} ${l.text}`)));
    }
  });
  return {
    title: '5. at the end no unhealed peer, health "up" and a full mesh on every node',
    ok: bad === 0,
    summary: bad === 0 ? `every node is up, linked to all ${o.names.length - 1} others, nothing unhealed` : `${bad} of ${o.names.length} nodes are not`,
    evidence,
  };
}

// 6 ────────────────────────────────────────────────────────────────────────

function noStalledCall(o: Observations, limits: CheckLimits): CheckResult {
  const stalls: Array<{ op: Operation; waited: number; end: number }> = [];
  let counted = 0;
  for (const op of o.ops) {
    const node = op.process;
    const end = op.answeredAt ?? node.exit?.at ?? o.readAt;
    // Not a stall: its node was killed or stopped before it answered, or crashed (check 1's).
    if (node.signalledAt !== undefined && node.signalledAt.at <= end) continue;
    if (op.answeredAt === undefined && node.exit !== undefined) continue;
    counted++;
    if (end - op.sentAt > limits.answerMs) stalls.push({ op, waited: end - op.sentAt, end });
  }
  const evidence: string[] = [];
  const byName = new Map<string, number>();
  for (const { op } of stalls) byName.set(op.name, (byName.get(op.name) ?? 0) + 1);
  // Grouped by the fault that began last before the wait ended: stalls cluster at the start of partitions.
  const byFault = new Map<TimelineEntry | undefined, typeof stalls>();
  for (const stall of stalls) push(byFault, o.timeline.before(stall.end, 1, 'fault')[0], stall);
  for (const [fault, list] of byFault) {
    const worst = list.reduce((a, b) => (b.waited > a.waited ? b : a));
    const into = fault === undefined ? 0 : (worst.op.sentAt - fault.at) / 1000;
    evidence.push(
      `${list.length} call(s) during "${fault?.text ?? 'no fault'}"${fault === undefined ? '' : ` (${o.timeline.since(fault.at)})`}: worst ${worst.op.name} ${o.timeline.where(worst.op.node, worst.op.sentAt)}` +
        ` waited ${worst.waited} ms${worst.op.answeredAt === undefined ? ' and never got an answer' : ''}` +
        (fault === undefined ? '' : into >= 0 ? `, sent ${into.toFixed(1)} s into it` : `, sent ${(-into).toFixed(1)} s before it`),
    );
  }
  return {
    title: `6. every call to a node that stayed up answered within ${limits.answerMs / 1000} s`,
    ok: stalls.length === 0,
    summary:
      stalls.length === 0
        ? `all ${counted} calls answered in time (slowest ${Math.max(0, ...o.ops.filter((op) => op.answeredAt !== undefined).map((op) => op.answeredAt! - op.sentAt))} ms)`
        : `${stalls.length} of ${counted} calls waited longer (${[...byName].map(([name, n]) => `${n} ${name}`).join(', ')})`,
    evidence: evidence.slice(0, 2 * SHOWN),
  };
}

// 7 ────────────────────────────────────────────────────────────────────────

function reformedAfterEveryFault(o: Observations, limits: CheckLimits): CheckResult {
  const late = o.recoveries.filter((r) => r.settledAt === undefined || r.settledAt - r.endedAt > limits.recoveryMs);
  const evidence: string[] = [];
  for (const recovery of late) {
    evidence.push(`after "${recovery.fault}" (ended ${o.timeline.since(recovery.endedAt)}): ${recovery.left.join('; ')}`);
    // The log lines of the nodes involved, about the peers involved, from the fault's end on.
    const involved = new Set(recovery.left.flatMap((problem) => problem.match(/\bn\d+\b/g) ?? []));
    o.runs.forEach((runs, n) => {
      if (!involved.has(short(o.names[n]))) return;
      const lines = runs
        .flatMap((run) => run.logs)
        .filter((l) => l.at >= recovery.endedAt - 1_000 && l.at <= recovery.endedAt + limits.recoveryMs && l.level !== 'debug')
        .filter((l) => [...involved].some((peer) => peer !== short(o.names[n]) && l.message.includes(`${peer}@`)))
        .slice(-6)
        .map((l) => `${o.timeline.since(l.at)} ${l.level.toUpperCase()} ${l.message}`);
      evidence.push(...indent(`${short(o.names[n])}'s logs`, lines));
    });
  }
  const settled = o.recoveries.filter((r) => r.settledAt !== undefined).map((r) => r.settledAt! - r.endedAt);
  return {
    title: `7. after every fault, all nodes re-linked with nothing unhealed within ${limits.recoveryMs / 1000} s`,
    ok: late.length === 0,
    summary:
      late.length === 0
        ? `the cluster re-formed after all ${o.recoveries.length} faults before the last (slowest ${Math.max(0, ...settled)} ms)`
        : `${late.length} of ${o.recoveries.length} faults left the cluster apart or unhealed`,
    evidence,
  };
}

// Helpers ─────────────────────────────────────────────────────────────────

function unreadableNodes(o: Observations): string[] {
  return o.reads.flatMap((reads, n) => (reads === undefined ? [`${short(o.names[n])} could not be read at the end (down, or no answer)`] : []));
}

/** A call per line: what, where (and on which island), when, and its answer. */
function describeCalls(o: Observations, ops: Operation[]): string[] {
  return [...new Set(ops)]
    .sort((a, b) => a.sentAt - b.sentAt)
    .filter((op) => op.name !== 'get')
    .slice(0, 10)
    .map((op) => {
      const outcome =
        op.answeredAt === undefined ? 'no answer' : op.ok ? `answered ${JSON.stringify(op.name === 'create' ? 'ok' : op.result)} after ${op.answeredAt - op.sentAt} ms` : `failed: ${op.error}`;
      return `${op.name}${op.name === 'revokeAll' ? `(${op.user})` : ''} ${o.timeline.where(op.node, op.sentAt)} (run ${op.process.run}): ${outcome}`;
    });
}

/** Warnings and errors the nodes logged since `since`, a few per node. */
function recentWarnings(o: Observations, since: number): string[] {
  return o.runs.flatMap((runs, n) =>
    indent(
      `${short(o.names[n])} warnings since ${o.timeline.since(since)}`,
      runs
        .flatMap((run) => run.logs)
        .filter((l) => l.at >= since && (l.level === 'warn' || l.level === 'error'))
        .slice(-6)
        .map((l) => `${o.timeline.since(l.at)} ${l.level.toUpperCase()} ${l.message}`),
    ),
  );
}

function indent(heading: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : [`  ${heading}:`, ...lines.map((line) => `    ${line}`)];
}

/** A token is a secret in an app; here it is shown shortened, enough to find it in the run. */
function tokenName(token: string): string {
  return `${token.slice(0, 8)}…`;
}

/** A short stand-in for a long digest. */
function fingerprint(digest: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < digest.length; i++) h = Math.imul(h ^ digest.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** The checks as text: a line per check, then the evidence of each failed one. */
export function formatResults(results: CheckResult[]): string {
  const lines = results.map((r) => `${r.ok ? 'PASS' : 'FAIL'} ${r.title}: ${r.summary}`);
  for (const r of results.filter((r) => !r.ok && r.evidence.length > 0)) lines.push('', `${r.title}:`, ...r.evidence.map((line) => `  ${line}`));
  return lines.join('\n');
}
