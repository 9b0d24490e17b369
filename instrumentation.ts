export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { getRuntime } = await import("./lib/server/runtime/runtime");
    try {
      await getRuntime();
    } catch (err) {
      console.error((err as Error).message);
      process.exit(1);
    }
  }
}
