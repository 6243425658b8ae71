import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { ImageModel } from '../images/model';
import type { RequestContext } from '../context';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  DateTime: { input: Date; output: Date; }
  SafeInt: { input: number; output: number; }
  _FieldSet: { input: any; output: any; }
};

export type DiskConfig =
  /** The disk is resized to the flavor's size as one partition. */
  | 'AUTO'
  /** The disk keeps the partition layout of the image. */
  | 'MANUAL';

/**
 * A server image of the Cloud Servers API: a base image provided by the cloud, or
 * a snapshot or backup taken from a server.
 */
export type Image = {
  __typename?: 'Image';
  created?: Maybe<Scalars['DateTime']['output']>;
  /** How a server's disk is partitioned at build (from OS-DCF:diskConfig). */
  diskConfig?: Maybe<DiskConfig>;
  /** The image's UUID. */
  id: Scalars['ID']['output'];
  /** Links to the image, with hrefs exactly as the upstream wrote them. */
  links: Array<Link>;
  /**
   * Every metadata entry. String values are passed as they are, other values as
   * JSON text, and a null value stays null. Entries keep the upstream order,
   * except that keys that are whole numbers come first, in ascending order.
   */
  metadata: Array<MetadataEntry>;
  /** The minimum disk size a server needs to boot this image, in GiB. */
  minDisk?: Maybe<Scalars['Int']['output']>;
  /** The minimum memory a server needs to boot this image, in MiB. */
  minRam?: Maybe<Scalars['Int']['output']>;
  name?: Maybe<Scalars['String']['output']>;
  /** How far a snapshot has been saved, as a percentage from 0 to 100. */
  progress?: Maybe<Scalars['Int']['output']>;
  /** The server a snapshot was taken from. Null for other images. */
  server?: Maybe<Server>;
  /** The size of the image file in bytes (from OS-EXT-IMG-SIZE:size). */
  sizeBytes?: Maybe<Scalars['SafeInt']['output']>;
  /** The image's state. Upstream values outside this enum become UNKNOWN. */
  status: ImageStatus;
  /** Whether the image is built in or custom (from the image_type metadata). */
  type?: Maybe<ImageType>;
  /** The time of the last change. Null when the upstream has none. */
  updated?: Maybe<Scalars['DateTime']['output']>;
};

export type ImageStatus =
  | 'ACTIVE'
  | 'DELETED'
  | 'ERROR'
  | 'SAVING'
  | 'UNKNOWN';

export type ImageType =
  /** An image taken from a server by a scheduled backup. */
  | 'BACKUP'
  /** An image provided by the cloud. */
  | 'BASE'
  /** An image taken from a server on request. */
  | 'SNAPSHOT';

export type Link = {
  __typename?: 'Link';
  href: Scalars['String']['output'];
  rel: Scalars['String']['output'];
  /** The media type of the linked resource, when the upstream names one. */
  type?: Maybe<Scalars['String']['output']>;
};

export type MetadataEntry = {
  __typename?: 'MetadataEntry';
  key: Scalars['String']['output'];
  value?: Maybe<Scalars['String']['output']>;
};

export type Query = {
  __typename?: 'Query';
  /**
   * Look up one image by its UUID. Returns null and a NOT_FOUND error when the
   * upstream has no such image.
   */
  image?: Maybe<Image>;
};


export type QueryImageArgs = {
  id: Scalars['ID']['input'];
};

/** A server of the Cloud Servers API, resolved by the subgraph that owns servers. */
export type Server = {
  __typename?: 'Server';
  id: Scalars['ID']['output'];
};

export type WithIndex<TObject> = TObject & Record<string, any>;
export type ResolversObject<TObject> = WithIndex<TObject>;

export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ReferenceResolver<TResult, TReference, TContext> = (
      reference: TReference,
      context: TContext,
      info: GraphQLResolveInfo
    ) => Promise<TResult> | TResult;

      type ScalarCheck<T, S> = S extends true ? T : NullableCheck<T, S>;
      type NullableCheck<T, S> = Maybe<T> extends T ? Maybe<ListCheck<NonNullable<T>, S>> : ListCheck<T, S>;
      type ListCheck<T, S> = T extends (infer U)[] ? NullableCheck<U, S>[] : GraphQLRecursivePick<T, S>;
      export type GraphQLRecursivePick<T, S> = { [K in keyof T & keyof S]: ScalarCheck<T[K], S[K]> };
    

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

/** Mapping of federation types */
export type FederationTypes = ResolversObject<{
  Image: Image;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Image:
    ( { __typename: 'Image' }
    & GraphQLRecursivePick<FederationTypes['Image'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  DiskConfig: DiskConfig;
  Image: ResolverTypeWrapper<ImageModel>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  ImageStatus: ImageStatus;
  ImageType: ImageType;
  Link: ResolverTypeWrapper<Link>;
  MetadataEntry: ResolverTypeWrapper<MetadataEntry>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  SafeInt: ResolverTypeWrapper<Scalars['SafeInt']['output']>;
  Server: ResolverTypeWrapper<Server>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  DateTime: Scalars['DateTime']['output'];
  Image: ImageModel;
  ID: Scalars['ID']['output'];
  Int: Scalars['Int']['output'];
  String: Scalars['String']['output'];
  Link: Link;
  MetadataEntry: MetadataEntry;
  Query: Record<PropertyKey, never>;
  SafeInt: Scalars['SafeInt']['output'];
  Server: Server;
  Boolean: Scalars['Boolean']['output'];
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type ImageResolvers<ContextType = RequestContext, ParentType extends ResolversParentTypes['Image'] = ResolversParentTypes['Image'], FederationReferenceType extends FederationReferenceTypes['Image'] = FederationReferenceTypes['Image']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Image']> | FederationReferenceType, FederationReferenceType, ContextType>;
  created?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  diskConfig?: Resolver<Maybe<ResolversTypes['DiskConfig']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  links?: Resolver<Array<ResolversTypes['Link']>, ParentType, ContextType>;
  metadata?: Resolver<Array<ResolversTypes['MetadataEntry']>, ParentType, ContextType>;
  minDisk?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  minRam?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  name?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  progress?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  server?: Resolver<Maybe<ResolversTypes['Server']>, ParentType, ContextType>;
  sizeBytes?: Resolver<Maybe<ResolversTypes['SafeInt']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['ImageStatus'], ParentType, ContextType>;
  type?: Resolver<Maybe<ResolversTypes['ImageType']>, ParentType, ContextType>;
  updated?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
}>;

export type LinkResolvers<ContextType = RequestContext, ParentType extends ResolversParentTypes['Link'] = ResolversParentTypes['Link']> = ResolversObject<{
  href?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rel?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  type?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type MetadataEntryResolvers<ContextType = RequestContext, ParentType extends ResolversParentTypes['MetadataEntry'] = ResolversParentTypes['MetadataEntry']> = ResolversObject<{
  key?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  value?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = RequestContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  image?: Resolver<Maybe<ResolversTypes['Image']>, ParentType, ContextType, RequireFields<QueryImageArgs, 'id'>>;
}>;

export interface SafeIntScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['SafeInt'], any> {
  name: 'SafeInt';
}

export type ServerResolvers<ContextType = RequestContext, ParentType extends ResolversParentTypes['Server'] = ResolversParentTypes['Server']> = ResolversObject<{
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
}>;

export type Resolvers<ContextType = RequestContext> = ResolversObject<{
  DateTime?: GraphQLScalarType;
  Image?: ImageResolvers<ContextType>;
  Link?: LinkResolvers<ContextType>;
  MetadataEntry?: MetadataEntryResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  SafeInt?: GraphQLScalarType;
  Server?: ServerResolvers<ContextType>;
}>;

