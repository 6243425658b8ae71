import type { SeedImage } from "../../simulator";
import type { GlanceClient, GlanceImage } from "./glance";

/** The Glance state an image is brought to before the tests read it. */
export type GlanceState = "active" | "queued" | "deleted" | "deactivated";

/** An image to seed into Glance, and from it into the simulator. */
export interface ImageSpec {
  id: string;
  /** null creates an image without a name. */
  name: string | null;
  minDisk: number;
  minRam: number;
  /** Glance v2 properties, which Nova serves as `metadata`; strings only. */
  properties: Record<string, string>;
  state: GlanceState;
  /** Size of the uploaded data in bytes, for active and deactivated images. */
  dataBytes?: number;
}

const SNAPSHOT_SERVER_ID = "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f";

/**
 * A property value longer than most metadata, to check that nothing cuts it:
 * 20,000 characters, as Glance stores property values as unbounded text.
 */
export const LONG_VALUE = "0123456789".repeat(2000);

/** Glance 25 rejects 4-byte UTF-8 characters, so these stay in the BMP. */
export const NON_ASCII_NAME = "Łódź – 東京 ✓";
export const NON_ASCII_VALUE = "naïve café, Grüße, Ελληνικά, 日本語";

export const IMAGES = {
  active: {
    id: "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001",
    name: "Ubuntu 11.10",
    minDisk: 10,
    minRam: 256,
    properties: {
      arch: "x86-64",
      auto_disk_config: "True",
      "com.rackspace__1__build_core": "1",
      image_type: "base",
      "org.openstack__1__os_distro": "org.ubuntu",
      os_distro: "ubuntu",
      os_type: "linux",
      os_version: "11.10",
    },
    state: "active",
    dataBytes: 4096,
  },
  queued: {
    id: "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
    name: "db-02 before upgrade",
    minDisk: 0,
    minRam: 0,
    properties: { image_type: "snapshot" },
    state: "queued",
  },
  snapshot: {
    id: "5c1e8a52-7d2b-4f0e-9a63-2b1f0c9e4d71",
    name: "web-01 nightly",
    minDisk: 20,
    minRam: 512,
    properties: {
      auto_disk_config: "disabled",
      base_image_ref: "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001",
      image_type: "snapshot",
      instance_uuid: SNAPSHOT_SERVER_ID,
      os_type: "linux",
    },
    state: "active",
    dataBytes: 3000,
  },
  longMetadata: {
    id: "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
    name: NON_ASCII_NAME,
    minDisk: 40,
    minRam: 1024,
    properties: {
      description: LONG_VALUE,
      note: NON_ASCII_VALUE,
      ["k".repeat(255)]: "the longest key Glance accepts",
      Grüße: "a non-ASCII key",
    },
    state: "active",
    dataBytes: 1,
  },
  unnamed: {
    id: "76bf09c0-8c76-4213-8b7b-8aa1ef5e351b",
    name: null,
    minDisk: 0,
    minRam: 0,
    properties: {},
    state: "active",
    dataBytes: 512,
  },
  deleted: {
    id: "340c12f0-07b6-4567-9bc8-d9db367ae6d0",
    name: "Ubuntu 12.04 LTS (Precise Pangolin)",
    minDisk: 10,
    minRam: 256,
    properties: { image_type: "base" },
    state: "deleted",
  },
  deactivated: {
    id: "066efb30-5da7-4ed5-b638-75c6b7e9d2de",
    name: "app-03 pre-migration",
    minDisk: 40,
    minRam: 2048,
    properties: { image_type: "snapshot", os_type: "linux" },
    state: "deactivated",
    dataBytes: 2048,
  },
} satisfies Record<string, ImageSpec>;

export type ImageKey = keyof typeof IMAGES;

/** Every image, in a fixed order. */
export const IMAGE_KEYS = Object.keys(IMAGES) as ImageKey[];

/**
 * Creates each image in Glance and brings it to its state. Returns Glance's
 * record of each image after the last change, so that its dates are final;
 * a deleted image has the record from before the deletion.
 */
export async function seedGlance(
  glance: GlanceClient,
): Promise<Record<ImageKey, GlanceImage>> {
  const records = {} as Record<ImageKey, GlanceImage>;
  for (const key of IMAGE_KEYS) {
    records[key] = await seedOne(glance, IMAGES[key]);
  }
  return records;
}

async function seedOne(
  glance: GlanceClient,
  spec: ImageSpec,
): Promise<GlanceImage> {
  await glance.createImage({
    ...spec.properties,
    id: spec.id,
    ...(spec.name !== null && { name: spec.name }),
    visibility: "public",
    disk_format: "raw",
    container_format: "bare",
    min_disk: spec.minDisk,
    min_ram: spec.minRam,
  });
  if (spec.dataBytes !== undefined) {
    await glance.upload(spec.id, Buffer.alloc(spec.dataBytes, 0x5a));
  }
  if (spec.state === "deactivated") {
    await glance.deactivate(spec.id);
  }

  const record = await glance.get(spec.id);
  if (spec.state === "deleted") {
    await glance.delete(spec.id);
  }
  return record;
}

/** Nova's status and progress for each Glance state that it serves. */
const NOVA_STATUS: Record<
  Exclude<GlanceState, "deleted">,
  { status: string; progress: number }
> = {
  active: { status: "ACTIVE", progress: 100 },
  queued: { status: "SAVING", progress: 25 },
  deactivated: { status: "UNKNOWN", progress: 0 },
};

/**
 * Builds the simulator's image for a seeded one, with the dates Glance gave
 * it, or undefined for a deleted image, which Nova does not serve.
 */
export function toSeedImage(
  spec: ImageSpec,
  record: GlanceImage,
): SeedImage | undefined {
  if (spec.state === "deleted") return undefined;

  const instanceId = spec.properties["instance_uuid"];
  return {
    id: spec.id,
    name: spec.name,
    ...NOVA_STATUS[spec.state],
    minDisk: spec.minDisk,
    minRam: spec.minRam,
    created: record.created_at,
    updated: record.updated_at,
    metadata: { ...spec.properties },
    // Nova reports a queued image, which has no data yet, with size 0.
    size: spec.dataBytes ?? 0,
    ...(instanceId !== undefined && { server: { id: instanceId } }),
  };
}
