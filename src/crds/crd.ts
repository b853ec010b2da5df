// A kind of the zcsp.io API: its names, scope and printer columns beside its zod schemas, and the
// CustomResourceDefinition made from them.
import { z } from 'zod';
import { toOpenApi, type OpenApiSchema } from './openapi.ts';

export const GROUP = 'zcsp.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
/** `kubectl get zcsp` lists every kind of the API. */
export const CATEGORY = 'zcsp';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  /** 0 (default) shows in `kubectl get`; 1 only with `-o wide`. */
  priority?: 1;
}

export interface KindOptions<Spec extends z.ZodType, Status extends z.ZodType> {
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  scope: 'Cluster' | 'Namespaced';
  /** What `kubectl explain <kind>` says first. */
  description: string;
  spec: Spec;
  status: Status;
  /** Shown before Age, which every kind gets last. */
  printerColumns: readonly PrinterColumn[];
  /** Spec fields usable in `--field-selector` (strings, integers, booleans). */
  selectableFields?: readonly string[];
}

/** What the controllers read: the spec parsed strictly, metadata as the API server sends it. */
const objectMeta = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export function defineKind<Spec extends z.ZodType, Status extends z.ZodType, K extends string>(options: KindOptions<Spec, Status> & { kind: K }) {
  const schema = z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(options.kind),
    metadata: objectMeta,
    spec: options.spec,
    status: options.status.optional(),
  });
  return { ...options, schema };
}

export type Kind = ReturnType<typeof defineKind>;

const AGE: PrinterColumn = {
  name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since the object was created.',
};

/** The whole object's schema: the envelope every Kubernetes object has, around spec and status. */
function objectSchema(kind: Kind): OpenApiSchema {
  return {
    description: kind.description,
    type: 'object',
    properties: {
      apiVersion: { description: `${API_VERSION}: the group and version of this API.`, type: 'string' },
      kind: { description: `${kind.kind}.`, type: 'string' },
      metadata: { type: 'object' },
      spec: toOpenApi(kind.spec),
      status: toOpenApi(kind.status),
    },
    required: ['spec'],
  };
}

/** The CustomResourceDefinition of a kind, as the API server takes it (apiextensions.k8s.io/v1). */
export function crdFor(kind: Kind): OpenApiSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${kind.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'zcsp' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: [...kind.shortNames],
        categories: [CATEGORY],
      },
      scope: kind.scope,
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: objectSchema(kind) },
        subresources: { status: {} },
        additionalPrinterColumns: [...kind.printerColumns, AGE],
        ...(kind.selectableFields !== undefined && { selectableFields: kind.selectableFields.map((jsonPath) => ({ jsonPath })) }),
      }],
    },
  };
}
