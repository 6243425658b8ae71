import type { Logger } from "pino";
import type { ImageLoader } from "./images/loader";

/** What resolvers of one GraphQL request share. */
export interface RequestContext {
  /** The caller's `X-Auth-Token`, or null when the request had none. */
  token: string | null;
  images: ImageLoader;
  logger: Logger;
}
