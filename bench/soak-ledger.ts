/**
 * The soak's bookkeeping and its checks: what the API answered for every call, compared with
 * what the store holds afterwards (GET /api/calls paging, GET /api/calls/{processId}).
 */
import { createHash } from "node:crypto";
import type { CallJson, CallStatus, TerminalStatus } from "../lib/rrpc/types";
import { TERMINAL_STATUSES } from "../lib/rrpc/types";
import { ERROR_STATUS, OUTCOME_ERRORS } from "../lib/server/http/errors";
import type { FleetStats } from "./misbehaving-devices";

const TERMINAL = new Set<string>(TERMINAL_STATUSES);

/** Violations by kind, with the first few examples of each. */
export class Violations {
  readonly byKind = new Map<string, { count: number; examples: string[] }>();

  add(kind: string, example: string): void {
    const v = this.byKind.get(kind) ?? { count: 0, examples: [] };
    v.count++;
    if (v.examples.length < 3) v.examples.push(example);
    this.byKind.set(kind, v);
  }

  get total(): number {
    let n = 0;
    for (const v of this.byKind.values()) n += v.count;
    return n;
  }
}

/** The HTTP status the API must answer a call that ended in `status` with. */
export function httpStatusFor(status: TerminalStatus): number {
  return status === "success" ? 200 : ERROR_STATUS[OUTCOME_ERRORS[status].code];
}

/** The parts of a call that must be the same in the API answer and in the store. */
type Fingerprint = { status: TerminalStatus; endedAt: string | undefined; terminalT: number; reply: string };

function fingerprint(c: CallJson, terminalT: number): Fingerprint {
  const reply = c.reply ? createHash("sha1").update(c.reply.payloadBase64).digest("base64").slice(0, 12) : "-";
  return { status: c.status as TerminalStatus, endedAt: c.endedAt, terminalT, reply };
}

/**
 * Checks one call as the API or the store shows it: ended, with exactly one terminal event, of
 * its status. (Events after it are fine: late, duplicate and foreign replies keep being recorded
 * on an ended call, even between its end and the API's answer.) Returns the terminal event's
 * `t`, or null (violations recorded).
 */
export function checkTerminal(c: CallJson, where: string, v: Violations): number | null {
  if (!TERMINAL.has(c.status)) {
    v.add(`${where}: call not in a terminal state`, `${c.processId} is ${c.status}`);
    return null;
  }
  const terminal = c.events.filter((e) => TERMINAL.has(e.type));
  if (terminal.length !== 1) {
    v.add(`${where}: not exactly one terminal event`, `${c.processId}: ${terminal.map((e) => e.type).join(", ") || "none"}`);
    return null;
  }
  if (terminal[0]!.type !== c.status) {
    v.add(`${where}: terminal event differs from status`, `${c.processId}: status ${c.status}, event ${terminal[0]!.type}`);
    return null;
  }
  if (c.endedAt === undefined) v.add(`${where}: ended call without endedAt`, c.processId);
  return terminal[0]!.t;
}

/** Every call the API answered, by messageId. */
export class Ledger {
  private readonly calls = new Map<number, Fingerprint>();
  readonly byStatus: Partial<Record<CallStatus, number>> = {};

  constructor(private readonly v: Violations) {}

  get size(): number {
    return this.calls.size;
  }

  /** Records a call from a POST /api/calls answer; checks it and its HTTP status. */
  answered(httpStatus: number, c: CallJson): void {
    const t = checkTerminal(c, "API answer", this.v);
    if (t === null) return;
    const status = c.status as TerminalStatus;
    if (httpStatus !== httpStatusFor(status))
      this.v.add("API answer: HTTP status does not match the call's status", `${c.processId}: ${httpStatus} for ${status}`);
    if (this.calls.has(c.messageId)) this.v.add("API answer: processId answered twice", c.processId);
    this.calls.set(c.messageId, fingerprint(c, t));
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
  }

  /** Compares a call as the store shows it with the API's answer. */
  compare(c: CallJson, where: string): TerminalStatus | null {
    const t = checkTerminal(c, where, this.v);
    const mine = this.calls.get(c.messageId);
    if (!mine) {
      this.v.add(`${where}: call the API never answered`, `${c.processId} (${c.status})`);
      return null;
    }
    if (t === null) return null;
    const theirs = fingerprint(c, t);
    for (const k of ["status", "endedAt", "terminalT", "reply"] as const) {
      if (mine[k] !== theirs[k])
        this.v.add(`${where}: ${k} differs from the API answer`, `${c.processId}: ${String(mine[k])} vs ${String(theirs[k])}`);
    }
    return theirs.status;
  }

  ids(): number[] {
    return [...this.calls.keys()];
  }
}

/** The device fleets' counts, added up. */
export function mergeStats(all: FleetStats[]): FleetStats {
  const m: FleetStats = { requests: 0, behaviours: {}, replies: 0, reconnects: 0, connectFailures: 0 };
  for (const s of all) {
    m.requests += s.requests;
    m.replies += s.replies;
    m.reconnects += s.reconnects;
    m.connectFailures += s.connectFailures;
    for (const [b, n] of Object.entries(s.behaviours)) m.behaviours[b] = (m.behaviours[b] ?? 0) + n;
  }
  return m;
}
