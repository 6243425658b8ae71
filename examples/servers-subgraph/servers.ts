import { SEED_IMAGE_IDS } from "../../simulator";

/** A server of the example Servers subgraph, with the id of its image. */
export interface ExampleServer {
  /** The server's UUID. */
  id: string;
  name: string;
  /** The id of the image it was booted from, or null when booted from a volume. */
  imageId: string | null;
}

/**
 * Ids of servers that seed snapshots of the simulator were taken from, as in
 * the `server` field of those images. `Image.server` leads back to them.
 */
export const SNAPSHOT_SOURCE_SERVER_IDS = {
  web01: "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f",
  app03: "941f5269-7036-4714-ab96-bdd1beb44c2f",
} as const;

/**
 * The fleet that `npm run supergraph` serves. Two servers were booted from
 * the snapshot "web-01 nightly" and one from a backup, and web-01 is the
 * server that snapshot was taken from. The backup's server is not in the
 * fleet, so its `Image.server` resolves to null, as for a deleted server.
 */
export const EXAMPLE_SERVERS: readonly ExampleServer[] = [
  {
    id: SNAPSHOT_SOURCE_SERVER_IDS.web01,
    name: "web-01",
    imageId: SEED_IMAGE_IDS.ubuntu,
  },
  {
    id: "0b6a3f6e-51c4-4c1e-9d3a-6f2e8b7c1a01",
    name: "web-02",
    imageId: SEED_IMAGE_IDS.snapshot,
  },
  {
    id: "0b6a3f6e-51c4-4c1e-9d3a-6f2e8b7c1a02",
    name: "web-03",
    imageId: SEED_IMAGE_IDS.snapshot,
  },
  {
    id: "0b6a3f6e-51c4-4c1e-9d3a-6f2e8b7c1a03",
    name: "web-04",
    imageId: SEED_IMAGE_IDS.backup,
  },
  {
    id: SNAPSHOT_SOURCE_SERVER_IDS.app03,
    name: "app-03",
    imageId: SEED_IMAGE_IDS.debian,
  },
  {
    id: "0b6a3f6e-51c4-4c1e-9d3a-6f2e8b7c1a04",
    name: "db-01",
    imageId: SEED_IMAGE_IDS.centos,
  },
  {
    id: "0b6a3f6e-51c4-4c1e-9d3a-6f2e8b7c1a05",
    name: "win-01",
    imageId: SEED_IMAGE_IDS.windows,
  },
  {
    id: "0b6a3f6e-51c4-4c1e-9d3a-6f2e8b7c1a06",
    name: "arch-01",
    imageId: SEED_IMAGE_IDS.stringSize,
  },
  {
    id: "0b6a3f6e-51c4-4c1e-9d3a-6f2e8b7c1a07",
    name: "fedora-01",
    imageId: SEED_IMAGE_IDS.nonStringMetadata,
  },
  {
    id: "0b6a3f6e-51c4-4c1e-9d3a-6f2e8b7c1a08",
    name: "vol-01",
    imageId: null,
  },
];
