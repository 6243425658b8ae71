export { startSimulator } from "./server";
export type { Latency, ReceivedRequest, Simulator } from "./server";
export { DEFAULT_TENANT_ID, DEMO_TOKEN } from "./options";
export type { SimulatorOptions } from "./options";
export { SEED_IMAGES, SEED_IMAGE_IDS, seedImages } from "./images";
export type { ImageStatus, JsonValue, SeedImage } from "./images";
export {
  DEFAULT_FAULT_MESSAGES,
  DEFAULT_RETRY_AFTER_SECONDS,
  FAULT_STATUS,
  parseFault,
} from "./faults";
export type { Fault, FaultKind, FaultName } from "./faults";
export type { RateLimit } from "./rate-limit";
export { CONTROL_PREFIX } from "./control";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./views";
export { DEFAULT_SIMULATOR_PORT, readSimulatorEnv } from "./env";
export { DELIBERATE_DIFFERENCES } from "./differences";
export type {
  DeliberateDifference,
  DeliberateDifferenceName,
} from "./differences";
