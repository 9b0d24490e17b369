/**
 * The zod schemas of the API's answers (api-schemas.ts, what the OpenAPI document is made of)
 * and the TypeScript types the code uses must describe the same shapes: each line below fails
 * `npm run typecheck` when one changes without the other. The runtime check makes sure a sample
 * answer parses.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import * as s from "./api-schemas";
import type * as api from "./api";
import type { CallEvent, CallJson, CallStatus, DeviceSummary } from "./types";
import type { PayloadView } from "./payload";

type Out<T extends z.ZodType> = z.output<T>;

describe("response schemas and the code's types", () => {
  it("are the same types", () => {
    expectTypeOf<Out<typeof s.callStatusSchema>>().toEqualTypeOf<CallStatus>();
    expectTypeOf<Out<typeof s.payloadViewSchema>>().toEqualTypeOf<PayloadView>();
    expectTypeOf<Out<typeof s.callEventSchema>>().toEqualTypeOf<CallEvent>();
    expectTypeOf<Out<typeof s.callSchema>>().toEqualTypeOf<CallJson>();
    expectTypeOf<Out<typeof s.apiErrorBodySchema>>().toEqualTypeOf<api.ApiErrorBody>();
    expectTypeOf<Out<typeof s.callsPageSchema>>().toEqualTypeOf<api.CallsPage>();
    expectTypeOf<Out<typeof s.callCountSchema>>().toEqualTypeOf<api.CallCount>();
    expectTypeOf<Out<typeof s.deviceSummarySchema>>().toEqualTypeOf<DeviceSummary>();
    expectTypeOf<Out<typeof s.deviceListSchema>>().toEqualTypeOf<api.DeviceList>();
    expectTypeOf<Out<typeof s.deviceInfoSchema>>().toEqualTypeOf<api.DeviceInfo>();
    expectTypeOf<Out<typeof s.newDeviceSchema>>().toEqualTypeOf<api.NewDevice>();
    expectTypeOf<Out<typeof s.deviceConnectInfoSchema>>().toEqualTypeOf<api.DeviceConnectInfo>();
    expectTypeOf<Out<typeof s.apiKeyInfoSchema>>().toEqualTypeOf<api.ApiKeyInfo>();
    expectTypeOf<Out<typeof s.apiKeyListSchema>>().toEqualTypeOf<api.ApiKeyList>();
    expectTypeOf<Out<typeof s.newApiKeySchema>>().toEqualTypeOf<api.NewApiKey>();
    expectTypeOf<Out<typeof s.sessionInfoSchema>>().toEqualTypeOf<api.SessionInfo>();
    expectTypeOf<Out<typeof s.userInfoSchema>>().toEqualTypeOf<api.UserInfo>();
    expectTypeOf<Out<typeof s.userListSchema>>().toEqualTypeOf<api.UserList>();
    expectTypeOf<Out<typeof s.liveConfigSchema>>().toEqualTypeOf<api.LiveConfig>();
    expectTypeOf<Out<typeof s.brokerAuthnAnswerSchema>>().toEqualTypeOf<api.BrokerAuthnAnswer>();
    expectTypeOf<Out<typeof s.brokerAuthzAnswerSchema>>().toEqualTypeOf<api.BrokerAuthzAnswer>();
    expectTypeOf<Out<typeof s.limitsSchema>>().toEqualTypeOf<api.Limits>();
    expectTypeOf<Out<typeof s.productInfoSchema>>().toEqualTypeOf<api.ProductInfo>();
    expectTypeOf<Out<typeof s.productListSchema>>().toEqualTypeOf<api.ProductList>();
    expectTypeOf<Out<typeof s.healthSchema>>().toEqualTypeOf<api.Health>();
    expectTypeOf<Out<typeof s.commandSchemaOut>>().toEqualTypeOf<api.Command>();
    expectTypeOf<Out<typeof s.commandListSchema>>().toEqualTypeOf<api.CommandList>();
    expectTypeOf<Out<typeof s.batchSchema>>().toEqualTypeOf<api.BatchJson>();
    expectTypeOf<Out<typeof s.batchListSchema>>().toEqualTypeOf<api.BatchList>();
    expectTypeOf<Out<typeof s.batchTargetsPageSchema>>().toEqualTypeOf<api.BatchTargetsPage>();
    // A bucket is fields & Record<CallStatus, number>: compared deeply (.branded) since intersections are not flattened.
    expectTypeOf<Out<typeof s.callStatsSchema>>().branded.toEqualTypeOf<api.CallStats>();
    expectTypeOf<Out<typeof s.deviceStatsRankingSchema>>().toEqualTypeOf<api.DeviceStatsRanking>();
    expectTypeOf<Out<typeof s.devicePresenceSchema>>().toEqualTypeOf<api.DevicePresence>();
  });

  it("parse the README's sample call", () => {
    const call: CallJson = {
      processId: "1000000042",
      messageId: 1000000042,
      productId: "AIRCOND001",
      deviceName: "airConditioner1",
      status: "success",
      request: { payloadBase64: "Y2xvc2Vk", payloadText: "closed" },
      reply: { payloadBase64: "b2s=", payloadText: "ok" },
      timeoutMs: 4000,
      startedAt: "2026-11-26T13:50:02.124Z",
      endedAt: "2026-11-26T13:50:02.125Z",
      rttMs: 0.412,
      events: [
        { type: "requested", at: "2026-11-26T13:50:02.124Z", t: 0 },
        { type: "delivered", at: "2026-11-26T13:50:02.124Z", t: 0.17, detail: { subscribers: 1 } },
        { type: "success", at: "2026-11-26T13:50:02.125Z", t: 0.412 },
      ],
    };
    expect(s.callSchema.parse(call)).toEqual(call);
    expect(s.callSchema.safeParse({ ...call, status: "done" }).success).toBe(false);
  });
});
