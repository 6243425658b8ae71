import { parse } from "graphql";

/**
 * The schema of the hand-written contenders: the fields that a team would
 * write first, with the same names and key as this service's schema, so
 * that one query runs on every contender.
 */
export const handWrittenTypeDefs = parse(`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Query {
    image(id: ID!): Image
  }

  type Image @key(fields: "id") {
    id: ID!
    name: String
    status: String
    progress: Int
    minDisk: Int
    minRam: Int
    created: String
    updated: String
    server: Server
  }

  type Server @key(fields: "id", resolvable: false) {
    id: ID!
  }
`);

/** The image object inside the upstream's `{"image": {...}}`. */
export interface UpstreamImage {
  id: string;
  name?: string;
  status?: string;
  progress?: number;
  minDisk?: number;
  minRam?: number;
  created?: string;
  updated?: string;
  server?: { id: string };
}

/** Reads the caller's token, as both hand-written contenders do. */
export function readToken(
  headers: Record<string, string | string[] | undefined>,
): string {
  const value = headers["x-auth-token"];
  return (Array.isArray(value) ? value[0] : value) ?? "";
}
