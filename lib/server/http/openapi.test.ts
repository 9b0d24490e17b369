/**
 * GET /api/openapi.json: a valid OpenAPI 3.1 document (checked by a third-party validator), in
 * step with the routing table (a route without docs fails here, named), and true of the
 * production server: real answers validate against the schema documented for their status.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { ROUTES } from "./routes";
import { API_DOCS, buildOpenApiDocument, errorCodesOf, isNativeRoute, openApiPath, routeKey } from "./openapi";
import { ERROR_STATUS } from "./errors";
import { startServer, type ServerHandle } from "../testing/servers";
import type { OpenApiDocument } from "../../rrpc/openapi-document";
import type { CallJson } from "../../rrpc/types";

const doc = buildOpenApiDocument(ROUTES);

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
  });

  it("holds only valid JSON Schemas (2020-12 meta-schema, which the OpenAPI validator leaves to the dialect)", () => {
    const ajv = new Ajv2020();
    const schemas = [
      ...Object.values(doc.components.schemas),
      ...Object.values(doc.paths).flatMap((ops) =>
        Object.values(ops).flatMap((op) => [
          ...(op.parameters ?? []).map((p) => p.schema),
          ...Object.values(op.requestBody?.content ?? {}).map((m) => m.schema),
          ...Object.values(op.responses).flatMap((r) => [
            ...Object.values(r.content ?? {}).map((m) => m.schema),
            ...Object.values(r.headers ?? {}).map((h) => h.schema),
          ]),
        ]),
      ),
    ];
    expect(schemas.length).toBeGreaterThan(100);
    const invalid = schemas.filter((s) => !ajv.validateSchema(s)).map((s) => `${JSON.stringify(s).slice(0, 200)}: ${ajv.errorsText()}`);
    expect(invalid).toEqual([]);
    expect(ajv.validateSchema({ type: 12 })).toBe(false);
  });

  it("documents every route of ROUTES (but Tencent's API on /), and no route that does not exist", () => {
    const routes = ROUTES.filter(isNativeRoute).map(routeKey);
    const undocumented = routes.filter((k) => !API_DOCS[k]);
    const unknown = Object.keys(API_DOCS).filter((k) => !routes.includes(k));
    expect(undocumented, `routes without an API_DOCS entry in lib/server/http/openapi.ts: ${undocumented.join(", ")}`).toEqual([]);
    expect(unknown, `API_DOCS entries without a route in ROUTES: ${unknown.join(", ")}`).toEqual([]);
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      ROUTES.filter(isNativeRoute)
        .map((r) => `${r.method} ${openApiPath(r.path)}`)
        .sort(),
    );
    expect(Object.keys(doc.paths).some((p) => p === "/")).toBe(false);
  });

  it("names each path parameter of a route, and only those", () => {
    for (const r of ROUTES.filter(isNativeRoute)) {
      const names = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
      const op = doc.paths[openApiPath(r.path)]![r.method.toLowerCase()]!;
      const documented = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
      expect(documented, routeKey(r)).toEqual(names);
    }
  });

  it("gives each operation one answer per status, and each error code the status of errors.ts", () => {
    const seen = new Set<string>();
    for (const r of ROUTES.filter(isNativeRoute)) {
      const op = doc.paths[openApiPath(r.path)]![r.method.toLowerCase()]!;
      for (const code of errorCodesOf(r, API_DOCS[routeKey(r)]!)) {
        seen.add(code);
        const response = op.responses[String(ERROR_STATUS[code])];
        expect(response?.description, `${routeKey(r)} ${code}`).toContain(`\`${code}\``);
      }
      if (r.access !== "public") expect(op.responses["401"], routeKey(r)).toBeDefined();
      expect(op.operationId).toMatch(/^[a-zA-Z]+$/);
    }
    // Every code is answered by some operation, except 405, which answers a path for a method it has not.
    expect([...seen].sort()).toEqual(
      Object.keys(ERROR_STATUS)
        .filter((c) => c !== "method_not_allowed")
        .sort(),
    );
    expect(doc["x-error-codes"].map((e) => [e.code, e.status]).sort()).toEqual(Object.entries(ERROR_STATUS).sort());
  });
});

/** Validates answers against the document as served, with Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect). */
function answerChecker(served: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(served, "openapi.json");
  const pointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
  return (method: string, routePath: string, status: number, body: unknown, contentType = "application/json") => {
    const path = openApiPath(routePath);
    const op = served.paths[path]?.[method.toLowerCase()];
    if (!op) return [`${method} ${path} is not documented`];
    const response = op.responses[String(status)];
    if (!response) return [`${method} ${path} does not document status ${status}`];
    if (!response.content?.[contentType]) return [`${method} ${path} ${status} documents no ${contentType} body`];
    const validate = ajv.compile({
      $ref: `openapi.json#/paths/${pointer(path)}/${method.toLowerCase()}/responses/${status}/content/${pointer(contentType)}/schema`,
    });
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };
}

describe("the document against the production server", () => {
  let s: ServerHandle;
  let served: OpenApiDocument;
  let check: ReturnType<typeof answerChecker>;
  beforeAll(async () => {
    s = await startServer();
    const r = await fetch(`${s.url}/api/openapi.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    served = (await r.json()) as OpenApiDocument;
    check = answerChecker(served);
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function send(method: string, path: string, body?: unknown) {
    const r = await fetch(`${s.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  it("is served at GET /api/openapi.json, as generated", () => {
    expect(served).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it("POST /api/calls: a success (200), a bad request (400), an unknown device (404) and an offline device (409, with the call) validate", async () => {
    const ok = await send("POST", "/api/calls", { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" });
    expect(ok.status).toBe(200);
    expect((ok.body as CallJson).reply?.payloadText).toBe("ok");
    expect(check("POST", "/api/calls", 200, ok.body)).toEqual([]);

    const bad = await send("POST", "/api/calls", { productId: "air/cond", deviceName: "x", payload: "x", extra: 1 });
    expect(bad.status).toBe(400);
    expect(check("POST", "/api/calls", 400, bad.body)).toEqual([]);
    const notJson = await send("POST", "/api/calls", "{not json");
    expect(check("POST", "/api/calls", notJson.status, notJson.body)).toEqual([]);

    const unknown = await send("POST", "/api/calls", { productId: "AIRCOND001", deviceName: "nobodyHere", payload: "x" });
    expect(unknown.status).toBe(404);
    expect(check("POST", "/api/calls", 404, unknown.body)).toEqual([]);

    await send("POST", "/api/devices", { productId: "OPENAPI001", deviceName: "off" });
    const offline = await send("POST", "/api/calls", { productId: "OPENAPI001", deviceName: "off", payload: "x" });
    expect(offline.status).toBe(409);
    expect((offline.body as { call?: CallJson }).call?.status).toBe("offline");
    expect(check("POST", "/api/calls", 409, offline.body)).toEqual([]);
  });

  it("GET /api/calls/{processId}: a call (200), no such call (404), not a processId (400) validate", async () => {
    const made = await send("POST", "/api/calls", { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "AP8=", encoding: "base64" });
    const id = (made.body as CallJson).processId;
    const one = await send("GET", `/api/calls/${id}`);
    expect(one.status).toBe(200);
    expect(check("GET", "/api/calls/:processId", 200, one.body)).toEqual([]);
    const missing = await send("GET", "/api/calls/9999999999");
    expect(missing.status).toBe(404);
    expect(check("GET", "/api/calls/:processId", 404, missing.body)).toEqual([]);
    const bad = await send("GET", "/api/calls/abc");
    expect(bad.status).toBe(400);
    expect(check("GET", "/api/calls/:processId", 400, bad.body)).toEqual([]);
  });

  it("commands and batches: their answers validate", async () => {
    const cmd = await send("POST", "/api/commands", {
      name: "Doc check",
      payload: `{"t":{{t}}}`,
      params: [{ name: "t", type: "number", default: 1 }],
    });
    expect(cmd.status).toBe(201);
    expect(check("POST", "/api/commands", 201, cmd.body)).toEqual([]);
    const id = (cmd.body as { id: string }).id;
    const devices = [
      { productId: "AIRCOND001", deviceName: "airConditioner1" },
      { productId: "AIRCOND001", deviceName: "nobody" },
    ];
    const batch = await send("POST", "/api/batches?wait=1", { targets: { devices }, commandId: id, params: { t: 2 } });
    expect(batch.status).toBe(200);
    expect(check("POST", "/api/batches", 200, batch.body)).toEqual([]);
    const batchId = (batch.body as { batchId: string }).batchId;
    const targets = await send("GET", `/api/batches/${batchId}/targets`);
    expect(check("GET", "/api/batches/:batchId/targets", 200, targets.body)).toEqual([]);
    const calls = await send("GET", `/api/calls?batchId=${batchId}`);
    expect(check("GET", "/api/calls", 200, calls.body)).toEqual([]);
    const conflict = await send("POST", `/api/batches/${batchId}/cancel`);
    expect(check("POST", "/api/batches/:batchId/cancel", 409, conflict.body)).toEqual([]);
    const missing = await send("GET", "/api/commands/cmd_missing");
    expect(check("GET", "/api/commands/:id", 404, missing.body)).toEqual([]);
  });

  it("the other reads validate too", async () => {
    for (const [path, route] of [
      ["/api/health", "/api/health"],
      ["/api/limits", "/api/limits"],
      ["/api/calls?limit=2", "/api/calls"],
      ["/api/calls/count", "/api/calls/count"],
      ["/api/calls/export?format=json", "/api/calls/export"],
      ["/api/devices", "/api/devices"],
      ["/api/devices/OPENAPI001/off/connect", "/api/devices/:productId/:deviceName/connect"],
      ["/api/keys", "/api/keys"],
      ["/api/session", "/api/session"],
      ["/api/live", "/api/live"],
      ["/api/openapi.json", "/api/openapi.json"],
      ["/api/commands", "/api/commands"],
      ["/api/batches", "/api/batches"],
      ["/api/stats", "/api/stats"],
      ["/api/stats/devices", "/api/stats/devices"],
    ] as const) {
      const r = await send("GET", path);
      expect(r.status, path).toBe(200);
      expect(check("GET", route, 200, r.body), path).toEqual([]);
    }
    const badQuery = await send("GET", "/api/calls?limit=0");
    expect(check("GET", "/api/calls", badQuery.status, badQuery.body)).toEqual([]);
  });

  it("a body that is not what the document says does not validate (the check is not vacuous)", async () => {
    const ok = await send("POST", "/api/calls", { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" });
    expect(check("POST", "/api/calls", 200, { ...(ok.body as object), status: "done" })).not.toEqual([]);
    expect(check("POST", "/api/calls", 200, { ...(ok.body as object), extra: 1 })).not.toEqual([]);
    expect(check("POST", "/api/calls", 200, { ...(ok.body as object), startedAt: 5 })).not.toEqual([]);
    // A code documented for another status.
    expect(check("POST", "/api/calls", 404, { error: { code: "timeout", message: "x" } })).not.toEqual([]);
    expect(check("POST", "/api/calls", 418, { error: { code: "x", message: "x" } })).toEqual(["POST /api/calls does not document status 418"]);
  });
});
