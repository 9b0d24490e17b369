import Link from "next/link";

export default function Home() {
  return (
    <main className="mx-auto max-w-3xl p-8">
      <h1 className="text-2xl font-semibold">rrpc-hub</h1>
      <p className="mt-2 text-zinc-600 dark:text-zinc-400">
        Call MQTT devices synchronously (RRPC, as in Tencent Cloud IoT Hub): the hub publishes on
        <code className="mx-1">$rrpc/rxd/&#123;productId&#125;/&#123;deviceName&#125;/&#123;processId&#125;</code>
        and returns the device&apos;s reply on the matching <code>$rrpc/txd/…</code> topic.
      </p>
      <h2 className="mt-6 text-lg font-medium">Try it</h2>
      <pre className="mt-2 overflow-x-auto rounded bg-zinc-100 p-3 text-sm dark:bg-zinc-900">
        {`curl -X POST localhost:3000/api/calls -H 'content-type: application/json' \\
  -d '{"productId":"AIRCOND001","deviceName":"airConditioner1","payload":"closed"}'`}
      </pre>
      <ul className="mt-6 list-disc pl-6">
        <li>
          <Link className="underline" href="/api/calls?limit=20" prefetch={false}>
            Recent calls
          </Link> (JSON)
        </li>
        <li>
          <Link className="underline" href="/api/health" prefetch={false}>
            Hub health
          </Link> (JSON)
        </li>
      </ul>
    </main>
  );
}
