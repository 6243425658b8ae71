import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  generates: {
    "src/generated/resolvers-types.ts": {
      plugins: ["typescript", "typescript-resolvers"],
      config: {
        federation: true,
        useIndexSignature: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: "../context#RequestContext",
        mappers: {
          Image: "../images/model#ImageModel",
        },
        scalars: {
          DateTime: "Date",
          SafeInt: "number",
        },
      },
    },
  },
};

export default config;
