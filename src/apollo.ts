import { ApolloServer } from "@apollo/server";
import type { ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import { ApolloServerPluginInlineTrace } from "@apollo/server/plugin/inlineTrace";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import type { GraphQLFormattedError } from "graphql";
import { GraphQLError } from "graphql";
import type { Logger } from "pino";
import type { RequestContext } from "./context";
import { ImageError } from "./errors";
import { createLimits } from "./limits";
import type { RequestLimits } from "./limits";
import type { Metrics } from "./observability/metrics";
import { observabilityPlugin } from "./observability/plugin";
import { createSchema, servedOperationTypesRule } from "./schema";

/** The operation that Apollo Sandbox opens with. */
export const EXAMPLE_OPERATION = `query Image($id: ID!) {
  image(id: $id) {
    id
    name
    status
    minDisk
    minRam
    sizeBytes
    type
    metadata {
      key
      value
    }
  }
}
`;

/** The documented Ubuntu 11.10 image of the Cloud Servers API reference. */
export const EXAMPLE_IMAGE_ID = "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001";

export interface ApolloOptions {
  logger: Logger;
  /** Includes stack traces in errors, and serves Apollo Sandbox unless `landingPage` is false. */
  development: boolean;
  /** Serves Apollo Sandbox on GET; default `development`. */
  landingPage?: boolean;
  /** A token that Sandbox sends as `X-Auth-Token`, for the demo only. */
  sandboxToken?: string;
  limits: RequestLimits;
  metrics: Metrics;
}

/**
 * Creates the Apollo Server of the subgraph. Deliberate errors reach the
 * client as they are; any other error is masked and logged once.
 */
export function createApolloServer(
  options: ApolloOptions,
): ApolloServer<RequestContext> {
  const { logger, development } = options;
  const limits = createLimits(options.limits);
  return new ApolloServer<RequestContext>({
    schema: createSchema(),
    logger,
    includeStacktraceInErrorResponses: development,
    // Sandbox loads the schema by introspection, so it stays on with Sandbox.
    introspection: development || options.landingPage === true,
    formatError: (formatted, error) => maskUnexpected(formatted, error, logger),
    parseOptions: limits.parseOptions,
    validationRules: [servedOperationTypesRule, ...limits.validationRules],
    plugins: [
      landingPage(options),
      // Cache hints would cost a hook on every resolved field, and the server
      // marks every response of this service no-store anyway.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTrace({
        includeErrors: { transform: maskUnexpectedInTrace },
      }),
      ...(limits.plugins as ApolloServerPlugin<RequestContext>[]),
      observabilityPlugin(options.metrics),
    ],
    // The process's own handlers stop the service in order on SIGTERM.
    stopOnTerminationSignals: false,
  });
}

function landingPage(options: ApolloOptions): ApolloServerPlugin {
  if (!(options.landingPage ?? options.development)) {
    return ApolloServerPluginLandingPageDisabled();
  }

  return ApolloServerPluginLandingPageLocalDefault({
    embed: true,
    includeCookies: false,
    document: EXAMPLE_OPERATION,
    variables: { id: EXAMPLE_IMAGE_ID },
    ...(options.sandboxToken !== undefined && {
      headers: { "X-Auth-Token": options.sandboxToken },
    }),
  });
}

function maskUnexpected(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof ImageError) {
    // An expected outcome, not a bug: a stack trace would only be noise.
    const { stacktrace: _stacktrace, ...extensions } =
      formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  if (original instanceof GraphQLError) return explainLimit(formatted);

  logger.error(
    { err: original, path: formatted.path },
    "unexpected error while resolving; masked as INTERNAL_SERVER_ERROR",
  );
  return {
    message: "Internal server error.",
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  };
}

/**
 * Messages of the request limits that graphql-js 16 and graphql-armor 3
 * write themselves, with the text that replaces each. The replacements name
 * the limit that was hit and what to change.
 */
const LIMIT_MESSAGES: readonly [RegExp, (match: RegExpExecArray) => string][] =
  [
    [
      /^Syntax Error: Document contains more that (\d+) tokens\. Parsing aborted\.$/,
      ([, limit]) =>
        `The query has more than ${limit} tokens; the limit is ${limit} (MAX_QUERY_TOKENS).`,
    ],
    [
      /^Syntax Error: Directives limit of (\d+) exceeded, found (\d+)\.$/,
      ([, limit, found]) =>
        `The query has ${found} directives; the limit is ${limit}.`,
    ],
    [
      // Apollo Server's own text names its constructor option, which an
      // operator of this service does not set.
      /^GraphQL introspection is not allowed by Apollo Server\b/,
      () =>
        "Introspection is off because NODE_ENV is production; set LANDING_PAGE=sandbox to turn it on.",
    ],
    [
      // graphql-js stops checking that fields can merge after a fixed amount
      // of work, so thousands of repeated fields or aliases end here.
      /^Validation aborted\.$/,
      () =>
        "The query repeats too many fields to validate; send fewer repeated fields or aliases in one operation.",
    ],
  ];

/** Replaces the message of a request limit by one that names the limit. */
function explainLimit(formatted: GraphQLFormattedError): GraphQLFormattedError {
  for (const [pattern, explain] of LIMIT_MESSAGES) {
    const match = pattern.exec(formatted.message);
    if (match !== null) return { ...formatted, message: explain(match) };
  }
  return formatted;
}

/**
 * Rewrites an error for the federated trace (ftv1) that a router asks for.
 * The trace plugin passes a copy without `originalError`, so the error code
 * tells a bug from a deliberate error. ImageErrors and Apollo Server's request
 * errors carry a code, and an error thrown by a bug has none. Bugs are masked
 * as in the response, and every other error keeps its message and extensions.
 */
function maskUnexpectedInTrace(error: GraphQLError): GraphQLError {
  const code = error.extensions.code;
  if (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR") {
    return error;
  }
  return new GraphQLError("Internal server error.", {
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  });
}
