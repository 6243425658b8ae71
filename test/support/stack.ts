import { Writable } from "node:stream";
import pino from "pino";
import type { Logger } from "pino";
import { request } from "undici";
import type { Config } from "../../src/config";
import { loadConfig } from "../../src/config";
import { startService } from "../../src/server";
import type { RunningService } from "../../src/server";
import { DEMO_TOKEN, startSimulator } from "../../simulator";
import type { Simulator, SimulatorOptions } from "../../simulator";

/** A pino logger that keeps every line in memory, for assertions on logs. */
export interface CapturedLogger {
  logger: Logger;
  lines: string[];
}

export function captureLogger(
  level: pino.LevelWithSilent = "debug",
): CapturedLogger {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

export interface GraphQLResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: {
    data?: Record<string, unknown> | null;
    errors?: {
      message: string;
      path?: (string | number)[];
      extensions?: Record<string, unknown>;
    }[];
  };
}

export interface QueryOptions {
  token?: string | null;
  variables?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Posts one GraphQL operation over HTTP, as a router or client would. */
export async function postGraphQL(
  url: string,
  query: string,
  options: QueryOptions = {},
): Promise<GraphQLResult> {
  const token = options.token === undefined ? DEMO_TOKEN : options.token;
  const response = await request(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token !== null && { "x-auth-token": token }),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: JSON.parse(text) as GraphQLResult["body"],
  };
}

export interface Stack {
  simulator: Simulator;
  service: RunningService;
  config: Config;
  log: CapturedLogger;
  query(query: string, options?: QueryOptions): Promise<GraphQLResult>;
  close(): Promise<void>;
}

export interface StackOptions {
  simulator?: SimulatorOptions;
  /** Environment variables on top of the simulator's `IMAGES_API_URL`. */
  env?: Record<string, string>;
  logLevel?: pino.LevelWithSilent;
}

/** Starts the simulator and the service over loopback HTTP, wired together. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const simulator = await startSimulator(options.simulator);
  const config = loadConfig({
    IMAGES_API_URL: simulator.imagesApiUrl,
    PORT: "0",
    HOST: "127.0.0.1",
    ...options.env,
  });
  const log = captureLogger(options.logLevel);
  const service = await startService({ config, logger: log.logger });

  return {
    simulator,
    service,
    config,
    log,
    query: (query, queryOptions) =>
      postGraphQL(service.url, query, queryOptions),
    close: async () => {
      await service.close();
      await simulator.close();
    },
  };
}
