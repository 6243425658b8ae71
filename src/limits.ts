import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type {
  FieldNode,
  FragmentDefinitionNode,
  ParseOptions,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
  ValueNode,
  VariableDefinitionNode,
} from "graphql";
import { GraphQLError, Kind } from "graphql";

/** Limits on what one GraphQL request may ask. */
export interface RequestLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxEntityRepresentations: number;
}

/**
 * Builds the options that enforce the limits. graphql-js stops parsing at the
 * token limit, so a huge document costs little, and graphql-armor checks
 * depth and aliases (fragments followed) during validation.
 */
export function createLimits(limits: RequestLimits): {
  parseOptions: ParseOptions;
  plugins: ApolloServerPlugin[];
  validationRules: ValidationRule[];
} {
  const armor = new ApolloArmor({
    maxDepth: {
      n: limits.maxDepth,
      ignoreIntrospection: true,
      flattenFragments: true,
      ...reportAs(
        `The query is too deep; the limit is ${limits.maxDepth} (MAX_QUERY_DEPTH).`,
      ),
    },
    maxAliases: {
      n: limits.maxAliases,
      ...reportAs(
        `The query has too many aliases; the limit is ${limits.maxAliases} (MAX_ALIASES).`,
      ),
    },
    // Tokens are limited by the parser, and cost by the other limits.
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    maxDirectives: { enabled: true, n: 50 },
    blockFieldSuggestion: { enabled: false },
  });
  const { plugins, validationRules } = armor.protect();

  return {
    parseOptions: { maxTokens: limits.maxTokens },
    plugins: [...plugins, entityLimitPlugin(limits.maxEntityRepresentations)],
    validationRules,
  };
}

/**
 * Replaces graphql-armor's error, whose message starts with "Syntax Error",
 * by a validation error with `message`.
 */
function reportAs(message: string) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null) =>
        context?.reportError(
          new GraphQLError(message, {
            extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
          }),
        ),
    ],
  };
}

/**
 * Rejects an operation whose `_entities` fields ask for more than `max`
 * representations in all, before any of them is resolved.
 */
function entityLimitPlugin(max: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (operation === undefined) return;
          const fragments = new Map<string, FragmentDefinitionNode>();
          for (const definition of document.definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION) {
              fragments.set(definition.name.value, definition);
            }
          }

          let count = 0;
          const fields = rootFields(operation.selectionSet, fragments);
          for (const field of fields.values()) {
            if (field.name.value !== "_entities") continue;

            const argument = field.arguments?.find(
              (candidate) => candidate.name.value === "representations",
            );
            if (argument !== undefined) {
              count += countValues(
                argument.value,
                request.variables ?? {},
                operation.variableDefinitions ?? [],
              );
            }
          }

          if (count > max) {
            throw new GraphQLError(
              `The request asks for ${count} _entities representations; the limit is ${max} (MAX_ENTITY_REPRESENTATIONS).`,
              { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}

/**
 * Collects the root fields of an operation by response key, through inline
 * fragments and fragment spreads. graphql-js runs the fields that share a
 * response key once, so each key counts once.
 */
function rootFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  fields = new Map<string, FieldNode>(),
  visited = new Set<string>(),
): Map<string, FieldNode> {
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD: {
        const key = selection.alias?.value ?? selection.name.value;
        if (!fields.has(key)) fields.set(key, selection);
        break;
      }
      case Kind.INLINE_FRAGMENT:
        rootFields(selection.selectionSet, fragments, fields, visited);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // Validation rejects fragment cycles, and the set guards anyway.
        if (fragment === undefined || visited.has(name)) break;
        visited.add(name);
        rootFields(fragment.selectionSet, fragments, fields, visited);
        break;
      }
    }
  }
  return fields;
}

/**
 * Counts the representations of one argument: a list written in the query,
 * or a variable's value, or its default value when the request omits it.
 */
function countValues(
  value: ValueNode,
  variables: Record<string, unknown>,
  definitions: readonly VariableDefinitionNode[],
): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind !== Kind.VARIABLE) return 1;

  const name = value.name.value;
  if (name in variables) {
    const bound = variables[name];
    return Array.isArray(bound) ? bound.length : 1;
  }
  const fallback = definitions.find(
    (definition) => definition.variable.name.value === name,
  )?.defaultValue;
  return fallback === undefined ? 1 : countValues(fallback, {}, []);
}
