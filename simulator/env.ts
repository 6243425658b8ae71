/** Settings of the simulator CLI, read from the environment. */
export interface SimulatorEnv {
  port: number;
  latencyMs: number;
}

/** Nova's default API port. */
export const DEFAULT_SIMULATOR_PORT = 8774;

function readVariable(
  env: NodeJS.ProcessEnv,
  name: string,
): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function readPort(env: NodeJS.ProcessEnv): number {
  const raw = readVariable(env, "SIMULATOR_PORT");
  if (raw === undefined) {
    return DEFAULT_SIMULATOR_PORT;
  }

  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new Error(
      `Invalid SIMULATOR_PORT "${raw}": expected an integer from 0 to 65535 (0 picks a free port).`,
    );
  }
  return port;
}

function readLatency(env: NodeJS.ProcessEnv): number {
  const raw = readVariable(env, "SIMULATOR_LATENCY_MS");
  if (raw === undefined) {
    return 0;
  }

  if (!/^\d+(\.\d+)?$/.test(raw)) {
    throw new Error(
      `Invalid SIMULATOR_LATENCY_MS "${raw}": expected a non-negative number of milliseconds.`,
    );
  }
  return Number(raw);
}

/**
 * Reads SIMULATOR_PORT (default 8774) and SIMULATOR_LATENCY_MS (default 0).
 * An empty variable counts as unset. Throws an Error whose message names the
 * variable, its value and the expected form.
 */
export function readSimulatorEnv(env: NodeJS.ProcessEnv): SimulatorEnv {
  return { port: readPort(env), latencyMs: readLatency(env) };
}
