/** Tencent's official Node SDK pointed at this hub, as a Tencent IoT Hub user would point it (tests and benchmarks). */
import { iotcloud } from "tencentcloud-sdk-nodejs/tencentcloud/services/iotcloud";

export type SdkVersion = "v20210408" | "v20180614";

export function tencentSdkClient(opts: { endpoint: string; secretId: string; secretKey: string; version?: SdkVersion; reqMethod?: "GET" | "POST" }) {
  const Client = iotcloud[opts.version ?? "v20210408"].Client;
  return new Client({
    credential: { secretId: opts.secretId, secretKey: opts.secretKey },
    region: "ap-guangzhou",
    profile: { httpProfile: { endpoint: opts.endpoint, protocol: "http://", reqMethod: opts.reqMethod ?? "POST", reqTimeout: 10 } },
  });
}
