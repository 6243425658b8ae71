/**
 * Seed images of the simulator. The first five repeat the image samples in
 * test/fixtures/images/ field for field (links aside, which the simulator
 * builds from its own origin), so that a test can compare a fixture with the
 * live response.
 */

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Image statuses that Nova maps Glance statuses to. */
export type ImageStatus = "ACTIVE" | "SAVING" | "DELETED" | "ERROR" | "UNKNOWN";

/**
 * An image as the simulator stores it. The simulator renders `links`,
 * `server.links` and `OS-DCF:diskConfig` in each response.
 */
export interface SeedImage {
  id: string;
  name: string | null;
  /** Any other string is sent as given, for testing unexpected statuses. */
  status: ImageStatus | (string & {});
  /** Percent, 0 to 100. */
  progress: number;
  /** Minimum disk size in GiB. */
  minDisk: number;
  /** Minimum RAM in MiB. */
  minRam: number;
  /** ISO 8601 timestamp, sent as given. */
  created: string;
  updated: string | null;
  /**
   * Image properties. Rackspace sends only strings, but other Nova deployments
   * also send nulls, numbers, booleans, arrays and objects.
   */
  metadata: { [key: string]: JsonValue };
  /** `OS-EXT-IMG-SIZE:size` in bytes, omitted from responses when undefined. */
  size?: number | string;
  /** The server that a snapshot or backup was taken from. */
  server?: {
    id: string;
    /** If true, `server.links` is an empty array, as one real sample shows. */
    emptyLinks?: boolean;
  };
}

export const SEED_IMAGE_IDS = {
  ubuntu: "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001",
  snapshot: "5c1e8a52-7d2b-4f0e-9a63-2b1f0c9e4d71",
  saving: "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
  windows: "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
  nonStringMetadata: "70a599e0-31e7-49b7-b260-868f441e862b",
  centos: "896f5735-5292-4e09-b937-83dcaf9b861b",
  debian: "69147505-92e5-41c5-969f-93ea3aa766d5",
  backup: "18436a31-3034-4a0c-b0dc-45b6c5a1f17e",
  error: "066efb30-5da7-4ed5-b638-75c6b7e9d2de",
  deleted: "340c12f0-07b6-4567-9bc8-d9db367ae6d0",
  unnamed: "76bf09c0-8c76-4213-8b7b-8aa1ef5e351b",
  stringSize: "69318da4-0608-49ae-8ca6-7c716190f7fe",
} as const;

const SNAPSHOT_SERVER_ID = "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f";
const BACKUP_SERVER_ID = "21b59a78-0f32-4ec2-8072-bfe1d6656f70";
const FAILED_SNAPSHOT_SERVER_ID = "941f5269-7036-4714-ab96-bdd1beb44c2f";

const ubuntu: SeedImage = {
  id: SEED_IMAGE_IDS.ubuntu,
  name: "Ubuntu 11.10",
  status: "ACTIVE",
  progress: 100,
  minDisk: 10,
  minRam: 256,
  created: "2012-02-28T19:38:57Z",
  updated: "2012-02-28T19:39:05Z",
  metadata: {
    arch: "x86-64",
    auto_disk_config: "True",
    "com.rackspace__1__build_core": "1",
    "com.rackspace__1__build_managed": "0",
    "com.rackspace__1__build_rackconnect": "0",
    "com.rackspace__1__options": "0",
    "com.rackspace__1__visible_core": "1",
    "com.rackspace__1__visible_managed": "0",
    "com.rackspace__1__visible_rackconnect": "0",
    image_type: "base",
    "org.openstack__1__architecture": "x64",
    "org.openstack__1__os_distro": "org.ubuntu",
    "org.openstack__1__os_version": "11.10",
    os_distro: "ubuntu",
    os_type: "linux",
    os_version: "11.10",
    rax_managed: "false",
    rax_options: "0",
  },
};

const snapshot: SeedImage = {
  id: SEED_IMAGE_IDS.snapshot,
  name: "web-01 nightly",
  status: "ACTIVE",
  progress: 100,
  minDisk: 20,
  minRam: 512,
  created: "2013-06-11T15:21:40Z",
  updated: "2013-06-11T15:26:02Z",
  metadata: {
    auto_disk_config: "True",
    base_image_ref: SEED_IMAGE_IDS.ubuntu,
    "com.rackspace__1__release_state": "kickstart_qc_pass",
    image_type: "snapshot",
    instance_type_flavorid: "2",
    instance_type_memory_mb: "512",
    instance_type_name: "512MB Standard Instance",
    instance_uuid: SNAPSHOT_SERVER_ID,
    os_type: "linux",
    user_id: "{user}",
  },
  size: 242841600,
  server: { id: SNAPSHOT_SERVER_ID },
};

const saving: SeedImage = {
  id: SEED_IMAGE_IDS.saving,
  name: "db-02 before upgrade",
  status: "SAVING",
  progress: 50,
  minDisk: 0,
  minRam: 0,
  created: "2014-09-23T12:54:52Z",
  updated: null,
  metadata: {
    image_type: "snapshot",
    instance_uuid: SNAPSHOT_SERVER_ID,
  },
  server: { id: SNAPSHOT_SERVER_ID, emptyLinks: true },
};

const windows: SeedImage = {
  id: SEED_IMAGE_IDS.windows,
  name: "Windows Server 2012 R2",
  status: "ACTIVE",
  progress: 100,
  minDisk: 40,
  minRam: 1024,
  created: "2015-08-27T09:49:58-05:00",
  updated: "2015-08-27T10:02:11-05:00",
  metadata: {
    auto_disk_config: "disabled",
    image_type: "base",
    os_type: "windows",
    "org.openstack__1__os_distro": "com.microsoft.server",
    "org.openstack__1__os_version": "2012.2",
    vm_mode: "hvm",
    flavor_classes: "*,!io1,!memory1,!onmetal",
  },
  size: 5562828800,
};

const nonStringMetadata: SeedImage = {
  id: SEED_IMAGE_IDS.nonStringMetadata,
  name: "fedora-cloud",
  status: "ACTIVE",
  progress: 100,
  minDisk: 0,
  minRam: 0,
  created: "2011-01-01T01:02:03Z",
  updated: "2011-01-01T01:02:03Z",
  metadata: {
    architecture: "x86_64",
    block_device_mapping: [
      {
        boot_index: 0,
        device_name: "/dev/vda",
        guest_format: null,
        delete_on_termination: false,
      },
    ],
    kernel_id: "nokernel",
    ramdisk_id: null,
    hw_ephemeral_encryption: "True",
    min_ram: 0,
  },
  // NOTE: the sample sends 1017415075.0. JSON.stringify writes 1017415075,
  // which JSON.parse reads as the same number, so only a client that looks
  // at the raw text can tell the difference.
  size: 1017415075,
};

const centos: SeedImage = {
  id: SEED_IMAGE_IDS.centos,
  name: "CentOS 7 (PVHVM)",
  status: "ACTIVE",
  progress: 100,
  minDisk: 20,
  minRam: 512,
  created: "2016-03-08T20:12:56Z",
  updated: "2016-03-08T20:40:12Z",
  metadata: {
    auto_disk_config: "True",
    cache_in_nova: "True",
    "com.rackspace__1__build_core": "1",
    "com.rackspace__1__release_id": "1000",
    "com.rackspace__1__visible_core": "1",
    flavor_classes: "*,!onmetal",
    image_type: "base",
    "org.openstack__1__architecture": "x64",
    "org.openstack__1__os_distro": "org.centos",
    "org.openstack__1__os_version": "7",
    os_distro: "centos",
    os_type: "linux",
    os_version: "7",
    vm_mode: "hvm",
  },
  size: 1620869120,
};

const debian: SeedImage = {
  id: SEED_IMAGE_IDS.debian,
  name: "Debian 8 (Jessie) (PVHVM)",
  status: "ACTIVE",
  progress: 100,
  minDisk: 20,
  minRam: 512,
  created: "2016-05-02T14:01:27Z",
  updated: "2016-05-02T14:22:49Z",
  metadata: {
    auto_disk_config: "True",
    "com.rackspace__1__build_core": "1",
    "com.rackspace__1__visible_core": "1",
    image_type: "base",
    "org.openstack__1__architecture": "x64",
    "org.openstack__1__os_distro": "org.debian",
    "org.openstack__1__os_version": "8",
    os_distro: "debian",
    os_type: "linux",
    os_version: "8",
    vm_mode: "hvm",
  },
  size: 1029701632,
};

const backup: SeedImage = {
  id: SEED_IMAGE_IDS.backup,
  name: "web-01-daily-20240102",
  status: "ACTIVE",
  progress: 100,
  minDisk: 20,
  minRam: 1024,
  created: "2024-01-02T03:00:12Z",
  updated: "2024-01-02T03:09:47Z",
  metadata: {
    auto_disk_config: "False",
    backup_type: "daily",
    base_image_ref: SEED_IMAGE_IDS.debian,
    image_type: "backup",
    instance_type_flavorid: "general1-1",
    instance_type_memory_mb: "1024",
    instance_uuid: BACKUP_SERVER_ID,
    "org.openstack__1__created_by": "scheduled_images_service",
    os_type: "linux",
    user_id: "{user}",
  },
  size: 1289846784,
  server: { id: BACKUP_SERVER_ID },
};

const failedSnapshot: SeedImage = {
  id: SEED_IMAGE_IDS.error,
  name: "app-03 pre-migration",
  status: "ERROR",
  progress: 0,
  minDisk: 40,
  minRam: 2048,
  created: "2019-11-05T22:14:09Z",
  updated: "2019-11-05T22:31:40Z",
  metadata: {
    auto_disk_config: "True",
    image_type: "snapshot",
    instance_uuid: FAILED_SNAPSHOT_SERVER_ID,
    os_type: "linux",
  },
  server: { id: FAILED_SNAPSHOT_SERVER_ID },
};

const deleted: SeedImage = {
  id: SEED_IMAGE_IDS.deleted,
  name: "Ubuntu 12.04 LTS (Precise Pangolin)",
  status: "DELETED",
  progress: 0,
  minDisk: 10,
  minRam: 256,
  created: "2012-04-27T15:14:00Z",
  updated: "2017-05-01T14:00:00Z",
  metadata: {
    auto_disk_config: "True",
    image_type: "base",
    "org.openstack__1__os_distro": "org.ubuntu",
    "org.openstack__1__os_version": "12.04",
    os_distro: "ubuntu",
    os_type: "linux",
    os_version: "12.04",
  },
  size: 737345536,
};

// An image registered without a name whose upload never finished: Nova
// reports Glance statuses it does not map as UNKNOWN with progress 0.
const unnamed: SeedImage = {
  id: SEED_IMAGE_IDS.unnamed,
  name: null,
  status: "UNKNOWN",
  progress: 0,
  minDisk: 0,
  minRam: 0,
  created: "2021-07-19T08:00:00Z",
  updated: "2021-07-19T08:00:01Z",
  metadata: {},
};

const stringSize: SeedImage = {
  id: SEED_IMAGE_IDS.stringSize,
  name: "Arch Linux (PVHVM)",
  status: "ACTIVE",
  progress: 100,
  minDisk: 20,
  minRam: 512,
  created: "2016-10-04T18:10:33Z",
  updated: "2016-10-04T18:31:05Z",
  metadata: {
    auto_disk_config: "True",
    image_type: "base",
    "org.openstack__1__os_distro": "org.archlinux",
    os_distro: "arch",
    os_type: "linux",
    vm_mode: "hvm",
  },
  size: "1048576000",
};

/** The seed set in list order. Use {@link seedImages} for a copy to modify. */
export const SEED_IMAGES: readonly SeedImage[] = [
  ubuntu,
  snapshot,
  saving,
  windows,
  nonStringMetadata,
  centos,
  debian,
  backup,
  failedSnapshot,
  deleted,
  unnamed,
  stringSize,
];

/** Returns a deep copy of the seed set. */
export function seedImages(): SeedImage[] {
  return structuredClone([...SEED_IMAGES]);
}
