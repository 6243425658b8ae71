import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper";
import type {
  GraphQLFieldResolver,
  GraphQLSchema,
  ValidationRule,
} from "graphql";
import { GraphQLError, parse } from "graphql";
import { ImageError } from "./errors";
import { readPackageFile } from "./package-files";
import { resolvers } from "./resolvers";

/** The subgraph's type definitions, parsed from `schema.graphql`. */
export const typeDefs = parse(readPackageFile("schema.graphql"));

/** The only entity type that this subgraph resolves in `_entities`. */
const RESOLVABLE_ENTITY = "Image";

export function createSchema(): GraphQLSchema {
  const schema = buildSubgraphSchema({
    typeDefs,
    resolvers: resolvers as GraphQLResolverMap<unknown>,
  });
  guardEntityRepresentations(schema);
  return schema;
}

/**
 * Wraps the `_entities` resolver of @apollo/subgraph so that a malformed
 * representation fails alone. That resolver throws for an unknown
 * `__typename` while it maps the list, which fails every entity of the
 * request and leaves the loads already started for the others unobserved.
 * Each representation is checked first, and a bad one gets a BAD_USER_INPUT
 * error in its own slot.
 */
function guardEntityRepresentations(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  const resolveEntities = field?.resolve;
  if (field === undefined || resolveEntities === undefined) {
    throw new Error("The subgraph schema has no _entities resolver to guard.");
  }

  const guarded: GraphQLFieldResolver<unknown, unknown> = (
    source,
    args: { representations: unknown[] },
    context,
    info,
  ) => {
    const errors = args.representations.map(checkRepresentation);
    const valid = args.representations.filter(
      (_representation, index) => errors[index] === null,
    );
    const resolved = resolveEntities(
      source,
      { ...args, representations: valid },
      context,
      info,
    ) as unknown[];

    let next = 0;
    return errors.map((error) => error ?? resolved[next++]);
  };
  field.resolve = guarded;
}

/** Returns null for a usable representation, or the error for its slot. */
function checkRepresentation(
  representation: unknown,
  index: number,
): ImageError | null {
  const reject = (problem: string) =>
    new ImageError(
      "BAD_USER_INPUT",
      `Invalid entity representation at index ${index}: ${problem}.`,
    );

  if (
    typeof representation !== "object" ||
    representation === null ||
    Array.isArray(representation)
  ) {
    return reject(
      'expected an object such as {"__typename": "Image", "id": "…"}',
    );
  }
  const { __typename, id } = representation as Record<string, unknown>;
  if (__typename !== RESOLVABLE_ENTITY) {
    return reject(
      `__typename is ${describe(__typename)}; this subgraph resolves only "${RESOLVABLE_ENTITY}"`,
    );
  }
  if (typeof id !== "string") {
    return reject(`id is ${describe(id)}; expected a string`);
  }
  return null;
}

/** Maximum length of a rejected value that an error message repeats. */
const MAX_ECHOED_LENGTH = 64;

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_ECHOED_LENGTH
    ? `${text.slice(0, MAX_ECHOED_LENGTH)}…`
    : text;
}

/**
 * Rejects an operation whose root type the schema lacks, such as a mutation,
 * during validation. graphql-js 16 only finds this out while executing, and
 * reports it as an error without a code.
 */
export const servedOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (context.getSchema().getRootType(node.operation) !== undefined) return;
    context.reportError(
      new GraphQLError(
        `This subgraph serves queries only; it has no ${node.operation} type.`,
        { nodes: node, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } },
      ),
    );
  },
});
