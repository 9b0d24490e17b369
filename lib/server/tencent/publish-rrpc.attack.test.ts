/**
 * Attack suite (issue: hardening), finding 3 — Tencent's API read whole bodies before checking
 * who sent them. Against the production server: a request with a missing, malformed, expired or
 * unknown credential is answered from its headers alone, while its (announced, 10 MB) body has
 * not been sent at all, and 40 such requests that do send their bodies leave memory where it was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import { rssMiB, startServer, type ServerHandle } from "../testing/servers";

let s: ServerHandle;
beforeAll(async () => {
  s = await startServer({ RRPC_BOOTSTRAP_KEY: "AKIDattack0000000000000000000000001:attackSecretKey000000000000000001" });
});
afterAll(async () => {
  await s?.stop();
});

/** Sends the request head only (the body is announced, never sent) and resolves with the answer's body. */
function headOnly(headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(s.port, "127.0.0.1");
    let data = "";
    socket.on("data", (c: Buffer) => {
      data += c.toString("utf8");
      const end = data.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(data)?.[1];
      if (end >= 0 && length !== undefined && data.length >= end + 4 + Number(length)) {
        socket.destroy();
        resolve(data.slice(end + 4, end + 4 + Number(length)));
      }
    });
    socket.on("error", reject);
    const head = Object.entries({ host: `127.0.0.1:${s.port}`, "content-length": String(10 * 1024 * 1024), ...headers })
      .map(([k, v]) => `${k}: ${v}`)
      .join("\r\n");
    socket.write(`POST / HTTP/1.1\r\n${head}\r\n\r\n`);
  });
}

const tc = { "x-tc-action": "PublishRRPCMessage", "x-tc-version": "2021-04-08", "content-type": "application/json" };
const now = () => String(Math.floor(Date.now() / 1000));
const credential = (secretId: string, timestamp: string) =>
  `TC3-HMAC-SHA256 Credential=${secretId}/${new Date(Number(timestamp) * 1000).toISOString().slice(0, 10)}/iotcloud/tc3_request, SignedHeaders=content-type;host, Signature=${"0".repeat(64)}`;

describe("finding 3: authentication before the body", () => {
  it("answers each bad credential from the headers alone", async () => {
    const t = now();
    const old = String(Number(t) - 3600);
    const cases: [Record<string, string>, string][] = [
      [{ ...tc, "x-tc-timestamp": t }, "MissingParameter"],
      [{ ...tc, "x-tc-timestamp": t, authorization: "Basic Zm9vOmJhcg==" }, "AuthFailure.InvalidAuthorization"],
      [{ ...tc, "x-tc-timestamp": old, authorization: credential("AKIDattack0000000000000000000000001", old) }, "AuthFailure.SignatureExpire"],
      [{ ...tc, "x-tc-timestamp": t, authorization: credential("AKIDnobody", t) }, "AuthFailure.SecretIdNotFound"],
    ];
    for (const [headers, code] of cases) {
      const answer = JSON.parse(await headOnly(headers)) as { Response: { Error: { Code: string } } };
      expect(answer.Response.Error.Code, code).toBe(code);
    }
  });

  it("keeps memory bounded while 40 unauthenticated 10 MB bodies arrive, each held back by one byte", async () => {
    const before = rssMiB(s.proc.pid!);
    const t = now();
    const head = Object.entries({ host: `127.0.0.1:${s.port}`, "content-length": String(10 * 1024 * 1024), ...tc, "x-tc-timestamp": t })
      .concat([["authorization", credential("AKIDnobody", t)]])
      .map(([k, v]) => `${k}: ${v}`)
      .join("\r\n");
    const chunk = Buffer.alloc(1024 * 1024 - 1, 0x7b);
    const answers = await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<string>((resolve) => {
            const socket = connect(s.port, "127.0.0.1");
            let data = "";
            socket.on("data", (c: Buffer) => (data += c.toString("utf8")));
            socket.on("error", () => undefined);
            socket.on("close", () => resolve(data));
            socket.write(`POST / HTTP/1.1\r\n${head}\r\n\r\n`);
            // Ten chunks of 1 MiB less one byte: the body stays one byte short of what it announced.
            let sent = 0;
            const pump = () => {
              while (sent < 10 && !socket.destroyed) {
                sent++;
                if (!socket.write(chunk)) return void socket.once("drain", pump);
              }
              // Held open (the last byte never comes) until the answer has arrived.
              const wait = () => (data.includes("SecretIdNotFound") ? socket.destroy() : setTimeout(wait, 20));
              wait();
            };
            pump();
          }),
      ),
    );
    expect(answers.every((a) => a.includes("AuthFailure.SecretIdNotFound"))).toBe(true);
    // Before the check moved ahead of the body, these took the server from 255 MB to 595 MB.
    expect(rssMiB(s.proc.pid!) - before).toBeLessThan(100);
  });
});
