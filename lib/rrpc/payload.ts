/** Payload codecs shared by browser and server: bytes in, views out. No Node Buffer here. */

const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

export type PayloadView = {
  payloadBase64: string;
  /** Present when the bytes are valid UTF-8. */
  payloadText?: string;
};

export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** The text when the bytes are valid UTF-8, otherwise undefined. */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isBase64(s: string): boolean {
  return BASE64_RE.test(s);
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function payloadView(bytes: Uint8Array, base64 = bytesToBase64(bytes)): PayloadView {
  const text = strictUtf8(bytes);
  return text === undefined ? { payloadBase64: base64 } : { payloadBase64: base64, payloadText: text };
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0") + " ";
  return s.trimEnd();
}
