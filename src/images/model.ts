import type {
  DiskConfig,
  ImageStatus,
  ImageType,
} from "../generated/resolvers-types";

export interface LinkModel {
  href: string;
  rel: string;
  type: string | null;
}

export interface MetadataEntryModel {
  key: string;
  /** A string value as the upstream sent it, other values as JSON text. */
  value: string | null;
}

/**
 * An image as this service serves it, built once from the upstream body.
 * Every field except `id` and `status` is null when the upstream value is
 * missing or unusable.
 */
export interface ImageModel {
  id: string;
  name: string | null;
  status: ImageStatus;
  progress: number | null;
  /** GiB. */
  minDisk: number | null;
  /** MiB. */
  minRam: number | null;
  sizeBytes: number | null;
  created: Date | null;
  updated: Date | null;
  diskConfig: DiskConfig | null;
  type: ImageType | null;
  links: LinkModel[];
  metadata: MetadataEntryModel[];
  server: { id: string } | null;
}
