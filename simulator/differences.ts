/**
 * The ways in which the simulator responds differently from real Nova 26
 * (Zed) with Glance 25 on purpose, each with its reason. Everything not
 * listed here is meant to match: test/openstack/conformance.test.ts
 * compares the simulator with Debian's Nova and Glance, and normalizes
 * only what an entry below names.
 */
export interface DeliberateDifference {
  /** What differs. */
  topic: string;
  /** Behaviour of real Nova 26. */
  nova: string;
  /** Behaviour of the simulator instead. */
  simulator: string;
  reason: string;
}

export const DELIBERATE_DIFFERENCES = {
  nonAuthoritative: {
    topic: "203 Non-Authoritative Information",
    nova: "Answers 200.",
    simulator:
      "Answers 200 by default and 203 with the nonAuthoritative fault.",
    reason:
      "Rackspace answers 203 when a cache in front of Nova serves the image (see test/fixtures/images/saving-snapshot-203.json), and the service must accept any 2xx.",
  },
  rateLimiting: {
    topic: "Rate limiting",
    nova: "Has no rate limiter in the API pipeline of Debian's api-paste.ini.",
    simulator:
      "Answers 413 overLimit with Retry-After when the rateLimit option is set.",
    reason:
      "Rackspace limits requests per token in front of Nova, and the service's waiting and OVER_LIMIT code need an upstream that does.",
  },
  metadataTypes: {
    topic: "Types of metadata values",
    nova: "Serves Glance v2 properties, which are strings only.",
    simulator:
      "Serves whatever a seed image holds, and the nonStringMetadata seed has numbers, null, a list and booleans.",
    reason:
      "Deployments on Glance v1 and some proxies send non-string values, and Rackspace's strings alone would not test their handling.",
  },
  authentication: {
    topic: "Authentication",
    nova: "Is tested with noauth2, which takes any `user:project` token.",
    simulator:
      "Accepts only the tokens of its token table and answers 401 as Keystone's middleware does.",
    reason:
      "The service's UNAUTHENTICATED handling needs a real 401, and Keystone is not part of the test setup.",
  },
  alternateLink: {
    topic: "`alternate` image link",
    nova: "Points to the image service: `{glance}/images/{id}`.",
    simulator:
      "Points to `{origin}/{tenant}/images/{id}`, the form of Rackspace's documented samples, unless the imageServiceUrl option is set.",
    reason:
      "The simulator has no image service; the conformance test sets imageServiceUrl to Glance's origin.",
  },
  listOrder: {
    topic: "Order of the image list",
    nova: "Lists Glance's order, newest first.",
    simulator: "Lists the images in the order they were given.",
    reason:
      "Tests choose the order; the conformance test gives the simulator Nova's order.",
  },
  otherMethods: {
    topic: "Methods other than GET on an image",
    nova: "DELETE deletes the image; POST, PUT and PATCH get the router's flat 404.",
    simulator: "Answers 405 badMethod with `Allow: GET`.",
    reason:
      "The simulator is read-only, and the service's METHOD_NOT_ALLOWED code needs an upstream that sends 405.",
  },
  varyHeader: {
    topic: "Vary on /v2.1",
    nova: "Sends two Vary headers, OpenStack-API-Version and X-OpenStack-Nova-API-Version.",
    simulator: "Sends one Vary header with both names.",
    reason:
      "The two forms mean the same (RFC 9110, 5.3), and a header value of the simulator's responses is one string.",
  },
  htmlErrors: {
    topic: "Error bodies for clients that do not accept JSON",
    nova: "Renders the router's 404 as HTML unless the request accepts application/json.",
    simulator: "Always renders JSON.",
    reason: "The service always sends `Accept: application/json`.",
  },
  unsupportedVersions: {
    topic: "Microversions",
    nova: "Supports 2.1 to 2.93 on /v2.1 with every API.",
    simulator:
      "Negotiates the same range but serves only the image API, which 2.36 removed.",
    reason: "The simulator models the images endpoint only.",
  },
} as const satisfies Record<string, DeliberateDifference>;

export type DeliberateDifferenceName = keyof typeof DELIBERATE_DIFFERENCES;
