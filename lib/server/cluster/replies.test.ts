/**
 * Two hubs on one broker hear every reply: each handles only the replies to its own calls
 * (docs/scale-out.md, "Replies"). A reply to another hub's call is never recorded as late,
 * duplicate or foreign; a processId of no hub's range is a stray, as with one hub.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { Hub } from "../calls/hub";
import { openPostgres } from "../store/open";
import { PgCallStore } from "../store/pg-store";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { startMosquitto, waitFor, type Mosquitto } from "../testing/servers";
import { startPostgres, type Postgres } from "../testing/postgres";
import { replyTopic } from "../../rrpc/topics";
import { IdOwnership } from "./ownership";
import { sqlQuery } from "./cluster";

const P = "CLUSTERP01";
let pg: Postgres;
let mosquitto: Mosquitto;
const closers: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  [pg, mosquitto] = await Promise.all([startPostgres(), startMosquitto()]);
}, 60_000);
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await mosquitto?.stop();
  await pg?.stop();
});

test("each hub handles the replies to its own calls only; another hub's are counted, never recorded; a stray is a stray", async () => {
  const url = await pg.createDatabase();
  // Two hubs' stores on one database, each with its own connections, as two processes would have.
  const hubs: { hub: Hub; store: PgCallStore; ownership: IdOwnership }[] = [];
  for (const id of ["a", "b"]) {
    const sql = await openPostgres(url);
    const query = sqlQuery(sql);
    const store = await PgCallStore.open(sql, { hubId: id });
    const ownership = new IdOwnership({ hubId: id, query });
    const hub = new Hub({ store, mqttUrl: mosquitto.url, maxInFlight: 1000, maxPayloadBytes: 65536, defaultTimeoutMs: 4000, ownership });
    await hub.start();
    closers.push(
      () => store.close(),
      () => hub.stop(),
    );
    hubs.push({ hub, store, ownership });
  }
  const [a, b] = hubs as [(typeof hubs)[0], (typeof hubs)[0]];
  const echo: SimDevice = await startSimDevice({ url: mosquitto.url, productId: P, deviceName: "echo", reply: (req) => `re:${req}` });
  closers.push(() => echo.stop());

  // Calls through both hubs, each payload unique: each caller gets its own reply.
  const calls = await Promise.all(
    Array.from({ length: 40 }, (_, i) => (i % 2 ? b : a).hub.call({ productId: P, deviceName: "echo", payload: Buffer.from(`p${i}`) })),
  );
  // Every processId once, each hub's from its own blocks.
  expect(new Set(calls.map((c) => c.processId)).size).toBe(calls.length);
  calls.forEach((c, i) => {
    expect(c.status).toBe("success");
    expect(Buffer.from(c.reply!).toString()).toBe(`re:p${i}`);
  });
  for (const h of [a, b]) {
    expect(h.hub.counters).toMatchObject({ lateReplies: 0, duplicateReplies: 0, foreignReplies: 0 });
    await h.ownership.refresh();
  }

  // A late reply to b's call: b records it; a counts it as another hub's and records nothing.
  const bCall = calls[1]!;
  const aCall = calls[0]!;
  const raw = connectMqtt(mosquitto.url, { clientId: `${P}raw`, clean: true, reconnectPeriod: 0 });
  closers.push(() => endMqtt(raw, true));
  await new Promise<void>((r) => raw.once("connect", () => r()));
  const beforeA = { ...a.hub.counters };
  raw.publish(replyTopic(P, "echo", bCall.processId), "again");
  const dup = await waitFor(
    async () => (await b.store.get(bCall.messageId))?.events.find((e) => e.type === "duplicate_reply"),
    "b to record the duplicate",
  );
  expect(Buffer.from(String(dup.detail?.payloadBase64), "base64").toString()).toBe("again");
  await waitFor(() => a.hub.counters.otherHubReplies > beforeA.otherHubReplies, "a to count another hub's reply");
  expect(a.hub.counters).toMatchObject({ duplicateReplies: 0, lateReplies: 0, strayReplies: beforeA.strayReplies });
  // The one duplicate, recorded once (by b), and a's own call got no extra event.
  expect((await a.store.get(bCall.messageId))?.events.filter((e) => e.type === "duplicate_reply")).toHaveLength(1);
  expect((await a.store.get(aCall.messageId))?.events.map((e) => e.type)).toEqual((aCall.events ?? []).map((e) => e.type));

  // A processId in no hub's range: a stray for both.
  const strays = [a.hub.counters.strayReplies, b.hub.counters.strayReplies];
  raw.publish(replyTopic(P, "echo", "999"), "?");
  await waitFor(() => a.hub.counters.strayReplies > strays[0]! && b.hub.counters.strayReplies > strays[1]!, "both to count the stray");
  expect(b.hub.counters.duplicateReplies).toBe(1);
  expect(a.hub.counters.duplicateReplies + a.hub.counters.lateReplies + a.hub.counters.foreignReplies).toBe(0);
});
