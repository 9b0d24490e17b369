/**
 * The call page's "copy as curl" and "copy as Tencent SDK call" (lib/rrpc/snippets.ts), run for
 * real against the production server: curl through `sh -c`, the SDK snippet through Node with
 * Tencent's official SDK. Each repeats the call: same device, same payload bytes, same timeout.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { curlCommand, SDK_PLACEHOLDERS, tencentSdkSnippet } from "../../rrpc/snippets";
import type { CallJson } from "../../rrpc/types";
import { startServer, type ServerHandle } from "../testing/servers";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..", "..");
const KEY = { secretId: "AKIDsnippetstest000000000000000001", secretKey: "snippetsTestSecretKey00000000001" };
const basic = { authorization: `Basic ${Buffer.from(`${KEY.secretId}:${KEY.secretKey}`).toString("base64")}` };

async function makeCall(s: ServerHandle, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<CallJson> {
  const r = await fetch(`${s.url}/api/calls`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(200);
  return (await r.json()) as CallJson;
}

async function getCall(s: ServerHandle, processId: string, headers: Record<string, string> = {}): Promise<CallJson> {
  const r = await fetch(`${s.url}/api/calls/${processId}`, { headers });
  expect(r.status).toBe(200);
  return (await r.json()) as CallJson;
}

const sameRequest = (c: CallJson) => ({ productId: c.productId, deviceName: c.deviceName, request: c.request, timeoutMs: c.timeoutMs });

/** Runs a copied curl command in sh; the API key, if any, from the environment as the command expects. */
async function runCurl(command: string, env: Record<string, string> = {}): Promise<CallJson> {
  const { stdout } = await run("sh", ["-c", command], { env: { ...process.env, ...env }, timeout: 20_000 });
  return JSON.parse(stdout) as CallJson;
}

const TRICKY = `it's "quoted" $HOME \`id\` \\ back\nslash ünïcode ✓ '; exit 1; '`;

describe("copy as curl, without sign-in", () => {
  let s: ServerHandle;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("repeats a text call, a call with shell metacharacters and a binary one exactly", async () => {
    for (const body of [
      { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" },
      { productId: "AIRCOND001", deviceName: "airConditioner1", payload: TRICKY, timeoutMs: 2500 },
      { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "AP+ACu+7vw==", encoding: "base64" },
      { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "77u/Ym9t", encoding: "base64" }, // BOM + "bom"
    ]) {
      const original = await makeCall(s, body);
      const command = curlCommand(original, { origin: s.url, signIn: false });
      const again = await runCurl(command);
      expect(again.status, command).toBe("success");
      expect(again.processId).not.toBe(original.processId);
      expect(sameRequest(await getCall(s, again.processId))).toEqual(sameRequest(original));
    }
  });
});

describe("copy as curl and as a Tencent SDK call, with sign-in", () => {
  let s: ServerHandle;
  beforeAll(async () => {
    s = await startServer({ RRPC_OPERATOR_PASSWORD: "snippets test password", RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("curl sends the API key from $RRPC_SECRET_ID/$RRPC_SECRET_KEY and repeats the call", async () => {
    const original = await makeCall(s, { productId: "AIRCOND001", deviceName: "airConditioner1", payload: TRICKY }, basic);
    const command = curlCommand(original, { origin: s.url, signIn: true });
    expect(command).not.toContain(KEY.secretKey);
    const again = await runCurl(command, { RRPC_SECRET_ID: KEY.secretId, RRPC_SECRET_KEY: KEY.secretKey });
    expect(again.status).toBe("success");
    expect(sameRequest(await getCall(s, again.processId, basic))).toEqual(sameRequest(original));
    // Without the key it is refused: the command carries no credential of its own.
    await expect(runCurl(`${command.replace("-sS", "-sSf")}`)).rejects.toThrow();
  });

  it("the SDK snippet, run by Node with Tencent's SDK and the key in place of the placeholders, repeats the call", async () => {
    const original = await makeCall(s, { productId: "AIRCOND001", deviceName: "airConditioner1", payload: 'say "hi" ✓' }, basic);
    const snippet = tencentSdkSnippet(original, { origin: s.url, defaultTimeoutMs: 4000 });
    expect(snippet).not.toContain(KEY.secretKey);
    const code = snippet.replace(SDK_PLACEHOLDERS.secretId, KEY.secretId).replace(SDK_PLACEHOLDERS.secretKey, KEY.secretKey);
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", code], { cwd: ROOT, timeout: 30_000 });
    const [messageId, reply] = stdout.trim().split(" ");
    expect(reply).toBe("ok");
    const again = await getCall(s, messageId!, basic);
    expect(again.status).toBe("success");
    expect(again.processId).not.toBe(original.processId);
    expect(sameRequest(again)).toEqual(sameRequest(original));
  });
});
