export * from "./process-id";
export * from "./topics";
export * from "./payload";
export * from "./types";
