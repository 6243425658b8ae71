/**
 * The IPC protocol between the benchmark runner and the processes it
 * starts. Each contender runs in its own process, so that the CPU time and
 * peak RSS it reports are its own.
 */

/** CPU time and peak memory of a process since it started. */
export interface ProcessUsage {
  /** User plus system CPU time in microseconds. */
  cpuMicros: number;
  /** Peak resident set size in bytes. */
  maxRssBytes: number;
}

/** Sent by a child once it serves requests. */
export interface ReadyMessage {
  type: "ready";
  /** The URL that receives the load generator's requests. */
  url: string;
}

export interface UsageMessage {
  type: "usage";
  usage: ProcessUsage;
}

/** A request of the runner. The reply carries the same `id`. */
export interface RunnerRequest {
  id: number;
  command: string;
  argument?: unknown;
}

export interface ChildReply {
  type: "reply";
  id: number;
  result?: unknown;
  error?: string;
}

/** Extra commands that a child handles, besides `usage`. */
export type CommandHandlers = Record<
  string,
  (argument: unknown) => unknown | Promise<unknown>
>;

function readUsage(): ProcessUsage {
  const cpu = process.cpuUsage();
  // resourceUsage().maxRSS is in kibibytes.
  return {
    cpuMicros: cpu.user + cpu.system,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

/**
 * Handles the runner's requests over IPC. When the runner disconnects or
 * sends `stop`, runs `stop` and exits.
 */
export function serveRunner(
  url: string,
  stop: () => Promise<void>,
  handlers: CommandHandlers = {},
): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    throw new Error(
      "This process has no IPC channel: start it through `npm run bench`.",
    );
  }

  const exit = () => {
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("disconnect", exit);
  process.on("message", (message: RunnerRequest) => {
    if (message.command === "stop") {
      send({ type: "reply", id: message.id } satisfies ChildReply);
      exit();
      return;
    }
    void answer(message, handlers).then((reply) => send(reply));
  });
  send({ type: "ready", url } satisfies ReadyMessage);
}

async function answer(
  message: RunnerRequest,
  handlers: CommandHandlers,
): Promise<ChildReply> {
  try {
    if (message.command === "usage") {
      return { type: "reply", id: message.id, result: readUsage() };
    }
    const handler = handlers[message.command];
    if (handler === undefined) {
      throw new Error(`Unknown command ${JSON.stringify(message.command)}.`);
    }
    const result = await handler(message.argument);
    return { type: "reply", id: message.id, result };
  } catch (error) {
    return {
      type: "reply",
      id: message.id,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Reads a required environment variable of a child process. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is missing: the benchmark runner sets it.`);
  }
  return value;
}
