export function unpackRows(rows: string, bytes: Uint8Array): unknown[][];
