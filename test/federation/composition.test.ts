import { composeServices } from "@apollo/composition";
import type { CompositionResult } from "@apollo/composition";
import type { DocumentNode, ObjectTypeDefinitionNode } from "graphql";
import { Kind, parse, print } from "graphql";
import { readPackageFile } from "../../src/package-files";

const IMAGES_SDL = readPackageFile("schema.graphql");
const SERVERS_SDL = readPackageFile("examples/servers-subgraph/schema.graphql");

function compose(imagesSdl: string, serversSdl = SERVERS_SDL) {
  return composeServices([
    {
      name: "images",
      url: "http://localhost:4001/graphql",
      typeDefs: parse(imagesSdl),
    },
    {
      name: "servers",
      url: "http://localhost:4002/",
      typeDefs: parse(serversSdl),
    },
  ]);
}

function errorMessages(result: CompositionResult): string[] {
  return (result.errors ?? []).map((error) => error.message);
}

function objectType(supergraph: DocumentNode, name: string) {
  const type = supergraph.definitions.find(
    (definition): definition is ObjectTypeDefinitionNode =>
      definition.kind === Kind.OBJECT_TYPE_DEFINITION &&
      definition.name.value === name,
  );
  if (type === undefined)
    throw new Error(`type ${name} is not in the supergraph`);
  return type;
}

/** Prints the directives of a type, such as `@join__type(graph: IMAGES, key: "id")`. */
function typeJoins(supergraph: DocumentNode, typeName: string): string[] {
  return (objectType(supergraph, typeName).directives ?? []).map(print);
}

function fieldJoins(
  supergraph: DocumentNode,
  typeName: string,
  fieldName: string,
): string[] {
  const field = objectType(supergraph, typeName).fields?.find(
    (candidate) => candidate.name.value === fieldName,
  );
  if (field === undefined) {
    throw new Error(`field ${typeName}.${fieldName} is not in the supergraph`);
  }
  return (field.directives ?? []).map(print);
}

describe("composition with the example Servers subgraph", () => {
  const result = compose(IMAGES_SDL);
  const supergraph = parse(result.supergraphSdl ?? "");

  test("composes without errors", () => {
    expect(errorMessages(result)).toEqual([]);
    expect(result.supergraphSdl).toEqual(expect.any(String));
  });

  test("Image is an entity keyed by id", () => {
    expect(typeJoins(supergraph, "Image")).toEqual([
      '@join__type(graph: IMAGES, key: "id")',
      '@join__type(graph: SERVERS, key: "id", resolvable: false)',
    ]);
  });

  test("Server is an entity keyed by id", () => {
    expect(typeJoins(supergraph, "Server")).toEqual([
      '@join__type(graph: IMAGES, key: "id", resolvable: false)',
      '@join__type(graph: SERVERS, key: "id")',
    ]);
  });

  test("Server.image comes from Servers", () => {
    expect(fieldJoins(supergraph, "Server", "image")).toEqual([
      "@join__field(graph: SERVERS)",
    ]);
  });

  test("Image fields come from images", () => {
    for (const field of ["name", "minRam", "type", "metadata", "server"]) {
      expect(fieldJoins(supergraph, "Image", field)).toEqual([
        "@join__field(graph: IMAGES)",
      ]);
    }
  });

  test("Image.id is in both subgraphs", () => {
    expect(fieldJoins(supergraph, "Image", "id")).toEqual([]);
  });

  test("root fields come from their owners", () => {
    expect(fieldJoins(supergraph, "Query", "image")).toEqual([
      "@join__field(graph: IMAGES)",
    ]);
    expect(fieldJoins(supergraph, "Query", "servers")).toEqual([
      "@join__field(graph: SERVERS)",
    ]);
  });
});

describe("composition with a broken entity key", () => {
  // Without the key on id, Image.id of the Servers stub is a second,
  // unshareable definition of the field instead of the key.
  const KEY_ID_NOT_SHARED =
    'Non-shareable field "Image.id" is resolved from multiple subgraphs: it is resolved from subgraphs "images" and "servers" and defined as non-shareable in subgraph "images"';

  test("Image keyed by name does not compose", () => {
    const broken = IMAGES_SDL.replace(
      /type Image @key\(fields: "id"\)/,
      'type Image @key(fields: "name")',
    );
    expect(broken).not.toBe(IMAGES_SDL);

    expect(errorMessages(compose(broken))).toEqual([KEY_ID_NOT_SHARED]);
  });

  test("Image without a key does not compose", () => {
    const broken = IMAGES_SDL.replace(
      /type Image @key\(fields: "id"\)/,
      "type Image",
    );
    expect(broken).not.toBe(IMAGES_SDL);

    expect(errorMessages(compose(broken))).toEqual([KEY_ID_NOT_SHARED]);
  });
});
