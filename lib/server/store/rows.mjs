// Plain JavaScript: shared by the store (TypeScript) and its writer thread (writer-thread.mjs),
// which runs as is, without a TypeScript loader.

/**
 * The upsert's positional parameters for each call of a packed batch (see writer.ts:
 * packCalls). Binding by name was a measurable part of each write.
 * @param {string} rows
 * @param {Uint8Array} bytes
 * @returns {unknown[][]}
 */
export function unpackRows(rows, bytes) {
  const packed = JSON.parse(rows);
  return packed.map((r) => {
    const at = (off, len) => Buffer.from(bytes.buffer, bytes.byteOffset + off, len);
    const reply = r[7] < 0 ? null : at(r[7], r[8]);
    return [r[0], r[1], r[2], r[3], r[4], at(r[5], r[6]), reply, r[9], r[10], r[11], r[12], JSON.stringify(r[13])];
  });
}
