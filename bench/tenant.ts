import type { SeedImage } from "../simulator";

/**
 * Returns the id of the generated image `index` of the benchmark's tenant.
 * Ids are fixed UUIDs, so every process derives the same ones.
 */
export function benchImageId(index: number): string {
  return `be0c4a1d-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}

/** Builds an image with the fields and metadata of a real response; every fourth is a snapshot. */
export function benchImage(index: number): SeedImage {
  const snapshot = index % 4 === 0;
  return {
    id: benchImageId(index),
    name: snapshot ? `nightly-${index}` : `Ubuntu 22.04 build ${index}`,
    status: "ACTIVE",
    progress: 100,
    minDisk: 20 + (index % 5) * 10,
    minRam: 512 * (1 + (index % 4)),
    created: "2024-03-01T10:00:00Z",
    updated: "2024-03-01T10:05:00Z",
    size: 2_147_483_648 + index,
    metadata: {
      arch: "x86-64",
      auto_disk_config: "True",
      image_type: snapshot ? "snapshot" : "base",
      os_distro: "ubuntu",
      os_version: "22.04",
      os_type: "linux",
      "org.openstack__1__os_distro": "org.ubuntu",
      "com.rackspace__1__options": "0",
      "com.rackspace__1__visible_core": "1",
    },
    ...(snapshot && {
      server: { id: "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f" },
    }),
  };
}

/**
 * `count` ids spread evenly over the tenant's `tenantSize` images, so that
 * the list strategy has to read the whole list to find them.
 */
export function spreadIds(count: number, tenantSize: number): string[] {
  if (count > tenantSize) {
    throw new RangeError(
      `Cannot pick ${count} distinct images from a tenant of ${tenantSize}: raise --tenant-images.`,
    );
  }
  const step = tenantSize / count;
  return Array.from({ length: count }, (_, index) =>
    benchImageId(Math.floor(index * step)),
  );
}
