import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Tencent Cloud API 3.0 request signing, TC3-HMAC-SHA256 (docs/protocol.md, "TC3-HMAC-SHA256").
 * verifyTc3 is the server side; signTc3 is the same algorithm
 * on the client side, for tests and load generation.
 */
export const TC3_ALGORITHM = "TC3-HMAC-SHA256";
/** docs/protocol.md, "TC3-HMAC-SHA256": a timestamp more than 300 s off is AuthFailure.SignatureExpire. */
export const TC3_MAX_SKEW_SECONDS = 300;
/** Tencent requires at least these two headers to be signed; the official SDKs sign exactly these. */
const REQUIRED_SIGNED_HEADERS = ["content-type", "host"] as const;

export type Tc3ErrorCode =
  | "AuthFailure.SignatureFailure"
  | "AuthFailure.SignatureExpire"
  | "AuthFailure.SecretIdNotFound"
  | "AuthFailure.InvalidAuthorization"
  | "MissingParameter"
  | "InvalidParameter";

export type Tc3VerifyInput = {
  method: string;
  /** The query string as received, without the leading `?` ("" when there is none). */
  rawQuery: string;
  /** Case-insensitive header lookup; null when absent. */
  headers: (name: string) => string | null;
  body: Uint8Array;
  /** Unix seconds. */
  now: number;
  secretFor: (secretId: string) => string | null;
  /** The request path the client signed; the official SDKs always sign "/". */
  path?: string;
};

export type Tc3Result = { ok: true; secretId: string; service: string; timestamp: number } | { ok: false; code: Tc3ErrorCode; message: string };

export type Tc3Authorization = {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
};

export type Tc3Failure = Extract<Tc3Result, { ok: false }>;
const fail = (code: Tc3ErrorCode, message: string): Tc3Failure => ({ ok: false, code, message });

/**
 * Parses `TC3-HMAC-SHA256 Credential={SecretId}/{date}/{service}/tc3_request,
 * SignedHeaders=a;b, Signature={hex}`; null when it is not of that form.
 */
export function parseTc3Authorization(header: string): Tc3Authorization | null {
  const trimmed = header.trim();
  if (!trimmed.startsWith(TC3_ALGORITHM + " ")) return null;
  const parts = new Map<string, string>();
  for (const item of trimmed.slice(TC3_ALGORITHM.length + 1).split(",")) {
    const eq = item.indexOf("=");
    if (eq <= 0) return null;
    const key = item.slice(0, eq).trim();
    if (parts.has(key)) return null;
    parts.set(key, item.slice(eq + 1).trim());
  }
  const credential = parts.get("Credential");
  const signedHeaders = parts.get("SignedHeaders");
  const signature = parts.get("Signature");
  if (parts.size !== 3 || !credential || !signedHeaders || !signature) return null;

  const scope = credential.split("/");
  if (scope.length !== 4 || scope[3] !== "tc3_request") return null;
  const [secretId, date, service] = scope as [string, string, string, string];
  if (!secretId || !/^\d{4}-\d{2}-\d{2}$/.test(date) || !service) return null;

  const names = signedHeaders.split(";");
  if (names.some((n) => !/^[a-z0-9-]+$/.test(n)) || new Set(names).size !== names.length) return null;
  return { secretId, date, service, signedHeaders: names, signature };
}

/** The last tc3Date answer: requests of the same second share it, and every request asks. */
let lastDate = { timestamp: NaN, date: "" };

/** The UTC date of a unix timestamp, as the credential scope spells it. */
export function tc3Date(timestamp: number): string {
  if (timestamp !== lastDate.timestamp) lastDate = { timestamp, date: new Date(timestamp * 1000).toISOString().slice(0, 10) };
  return lastDate.date;
}

/** The SDK signs the URL's hostname: no port; IPv6 keeps its brackets. */
export function hostWithoutPort(host: string): string {
  const h = host.trim();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(":");
  return colon !== -1 && colon === h.lastIndexOf(":") ? h.slice(0, colon) : h;
}

function canonicalHeaderValue(name: string, value: string): string {
  const v = value.trim().toLowerCase();
  return name === "host" ? hostWithoutPort(v) : v;
}

const sha256Hex = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

type SignParts = {
  method: string;
  path: string;
  rawQuery: string;
  /** Signed header names in the signed order, with their (raw) values. */
  headers: [string, string][];
  body: Uint8Array;
  timestamp: number;
  date: string;
  service: string;
  secretKey: string;
};

function computeSignature(p: SignParts): string {
  const canonicalHeaders = p.headers.map(([n, v]) => `${n}:${canonicalHeaderValue(n, v)}\n`).join("");
  const canonicalRequest = [
    p.method.toUpperCase(),
    p.path,
    p.rawQuery,
    canonicalHeaders,
    p.headers.map(([n]) => n).join(";"),
    sha256Hex(p.body),
  ].join("\n");
  const stringToSign = [TC3_ALGORITHM, String(p.timestamp), `${p.date}/${p.service}/tc3_request`, sha256Hex(canonicalRequest)].join("\n");
  return createHmac("sha256", signingKey(p.secretKey, p.date, p.service))
    .update(stringToSign)
    .digest("hex");
}

/** Signing keys derived lately, by SecretKey, date and service; at most this many. */
const SIGNING_KEYS_MAX = 1000;
const signingKeys = new Map<string, Buffer>();

/**
 * The key that signs a day's requests to a service: three HMACs, the same for every request of
 * that key, date and service, so derived once (docs/protocol.md, "TC3-HMAC-SHA256").
 */
function signingKey(secretKey: string, date: string, service: string): Buffer {
  const id = `${date}\n${service}\n${secretKey}`;
  let key = signingKeys.get(id);
  if (key === undefined) {
    key = hmac(hmac(hmac("TC3" + secretKey, date), service), "tc3_request");
    if (signingKeys.size >= SIGNING_KEYS_MAX) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/**
 * Checks a request's TC3-HMAC-SHA256 signature. Order: Authorization present and well formed,
 * X-TC-Timestamp present and within ±300 s, credential date = the timestamp's UTC date, SecretId
 * known, then the signature (compared in constant time). `service` is taken from the credential
 * scope as signed: the SDK derives it from the endpoint's first label (`127` for 127.0.0.1:3000).
 */
/** What the headers alone establish: a well-formed, current credential of a known key. */
export type Tc3Credentials = { auth: Tc3Authorization; timestamp: number; secretKey: string; signed: [string, string][] };

/**
 * Everything that can be checked before the body is read: the Authorization header's form, the
 * timestamp window, the SecretId and the signed headers. A request that fails here costs the
 * server no body read (an unauthenticated client cannot make it buffer 10 MB).
 */
export function checkTc3Headers(input: Omit<Tc3VerifyInput, "body">): { ok: true; credentials: Tc3Credentials } | Tc3Failure {
  const header = input.headers("authorization");
  if (header === null || header.trim() === "") return fail("MissingParameter", "the Authorization header is missing");
  const auth = parseTc3Authorization(header);
  if (!auth) {
    return fail(
      "AuthFailure.InvalidAuthorization",
      `Authorization must be '${TC3_ALGORITHM} Credential={SecretId}/{YYYY-MM-DD}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={hex}'`,
    );
  }
  const missingRequired = REQUIRED_SIGNED_HEADERS.filter((n) => !auth.signedHeaders.includes(n));
  if (missingRequired.length > 0) {
    return fail("AuthFailure.InvalidAuthorization", `SignedHeaders must include ${missingRequired.join(" and ")}`);
  }

  const ts = input.headers("x-tc-timestamp");
  if (ts === null || ts.trim() === "") return fail("MissingParameter", "the X-TC-Timestamp header is missing");
  if (!/^\d{1,12}$/.test(ts.trim())) return fail("InvalidParameter", "X-TC-Timestamp must be a unix time in seconds");
  const timestamp = Number(ts.trim());
  if (Math.abs(input.now - timestamp) > TC3_MAX_SKEW_SECONDS) {
    return fail(
      "AuthFailure.SignatureExpire",
      `X-TC-Timestamp ${timestamp} is more than ${TC3_MAX_SKEW_SECONDS} s away from the server time ${Math.floor(input.now)}`,
    );
  }
  if (auth.date !== tc3Date(timestamp)) {
    return fail("AuthFailure.InvalidAuthorization", `the credential date ${auth.date} is not the UTC date of X-TC-Timestamp (${tc3Date(timestamp)})`);
  }

  const secretKey = input.secretFor(auth.secretId);
  if (secretKey === null) return fail("AuthFailure.SecretIdNotFound", "the SecretId is unknown or has been revoked");

  const signed: [string, string][] = [];
  for (const name of auth.signedHeaders) {
    const value = input.headers(name);
    if (value === null) return fail("AuthFailure.SignatureFailure", `the signed header ${name} is missing from the request`);
    signed.push([name, value]);
  }
  return { ok: true, credentials: { auth, timestamp, secretKey, signed } };
}

/** The signature over the whole request, once the body has been read. */
export function verifyTc3Signature(input: Pick<Tc3VerifyInput, "method" | "path" | "rawQuery" | "body">, c: Tc3Credentials): Tc3Result {
  const { auth, timestamp, secretKey } = c;
  const expected = Buffer.from(
    computeSignature({
      method: input.method,
      path: input.path ?? "/",
      rawQuery: input.rawQuery,
      headers: c.signed,
      body: input.body,
      timestamp,
      date: auth.date,
      service: auth.service,
      secretKey,
    }),
    "hex",
  );
  const given = /^[0-9a-fA-F]{64}$/.test(auth.signature) ? Buffer.from(auth.signature, "hex") : null;
  if (!given || !timingSafeEqual(given, expected)) {
    return fail("AuthFailure.SignatureFailure", "the request signature does not match; check the SecretKey and the signing steps");
  }
  return { ok: true, secretId: auth.secretId, service: auth.service, timestamp };
}

export function verifyTc3(input: Tc3VerifyInput): Tc3Result {
  const checked = checkTc3Headers(input);
  return checked.ok ? verifyTc3Signature(input, checked.credentials) : checked;
}

export type Tc3SignInput = {
  method: string;
  /** Host header value; the port is left out of the signature, as the SDK does. */
  host: string;
  contentType: string;
  rawQuery?: string;
  body?: Uint8Array | string;
  /** Unix seconds. */
  timestamp: number;
  /** The SDK uses the endpoint's first DNS label: `iotcloud`, or `127` for 127.0.0.1:port. */
  service: string;
  secretId: string;
  secretKey: string;
  path?: string;
  /** More headers to sign besides content-type and host (lower-case names), e.g. x-tc-action. */
  extraSignedHeaders?: Record<string, string>;
};

/** The Authorization header value for a request, exactly as the official SDK computes it. */
export function signTc3(input: Tc3SignInput): string {
  const date = tc3Date(input.timestamp);
  const headers: [string, string][] = [
    ["content-type", input.contentType],
    ["host", input.host],
    ...Object.entries(input.extraSignedHeaders ?? {}).map(([n, v]): [string, string] => [n.toLowerCase(), v]),
  ];
  headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : (input.body ?? new Uint8Array());
  const signature = computeSignature({
    method: input.method,
    path: input.path ?? "/",
    rawQuery: input.rawQuery ?? "",
    headers,
    body,
    timestamp: input.timestamp,
    date,
    service: input.service,
    secretKey: input.secretKey,
  });
  return `${TC3_ALGORITHM} Credential=${input.secretId}/${date}/${input.service}/tc3_request, SignedHeaders=${headers.map(([n]) => n).join(";")}, Signature=${signature}`;
}

/** What the SDK signs as `service` for an endpoint such as `127.0.0.1:3000` or `iotcloud.tencentcloudapi.com`. */
export function sdkServiceFor(endpoint: string): string {
  return endpoint.split(".")[0] ?? endpoint;
}
