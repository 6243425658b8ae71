import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper";
import type { GraphQLSchema } from "graphql";
import { parse } from "graphql";
import { readPackageFile } from "./package-files";
import { resolvers } from "./resolvers";

/** The subgraph's type definitions, parsed from `schema.graphql`. */
export const typeDefs = parse(readPackageFile("schema.graphql"));

export function createSchema(): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs,
    resolvers: resolvers as GraphQLResolverMap<unknown>,
  });
}
