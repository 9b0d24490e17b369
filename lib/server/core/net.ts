/**
 * The accept queue every listening socket of the hub asks for. Node's default, 511, overflows
 * when a thousand clients connect at once (a thousand API clients, ten thousand devices coming
 * back after a restart): Linux then drops the SYNs past it and each client retries after 1 s,
 * then 3 s, so a burst of connections is served seconds late. Linux caps the value at
 * net.core.somaxconn (4096 on kernels since 5.4).
 */
export const LISTEN_BACKLOG = 4096;
