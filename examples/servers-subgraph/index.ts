export {
  createServersSchema,
  serversTypeDefs,
  startServersSubgraph,
} from "./server";
export type { RunningSubgraph, ServersSubgraphOptions } from "./server";
export { EXAMPLE_SERVERS, SNAPSHOT_SOURCE_SERVER_IDS } from "./servers";
export type { ExampleServer } from "./servers";
