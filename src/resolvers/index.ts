import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import type { Resolvers } from "../generated/resolvers-types";

/**
 * Resolvers of the subgraph. Both entry points go through the request's
 * image loader; every field below `Image` reads the model and makes no
 * upstream call.
 */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  SafeInt: SafeIntResolver,

  Query: {
    image: (_parent, { id }, { images }) => images.load(id),
  },

  Image: {
    __resolveReference: ({ id }, { images }) => images.load(id),
  },
};
