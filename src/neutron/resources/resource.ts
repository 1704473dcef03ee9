import { z } from 'zod';

/**
 * One attribute of a Neutron resource, as Neutron's attribute map declares it: how a value is
 * checked and converted (`schema`; none for attributes only the server sets), whether POST and
 * PUT may set it, whether POST must, and Neutron's default (filled in on create; a create that
 * sets it to the default is not checked against the attribute's policy rule).
 */
export interface AttributeDecl<S extends z.ZodType = z.ZodType, P extends boolean = boolean, U extends boolean = boolean, R extends boolean = boolean> {
  readonly schema: S;
  readonly post: P;
  readonly put: U;
  readonly required: R;
  readonly default?: unknown;
}

type AnyDecl = AttributeDecl<z.ZodType, boolean, boolean, boolean>;
export type Attributes = Readonly<Record<string, AnyDecl>>;

/** A settable attribute. */
export function attr<S extends z.ZodType, P extends boolean = true, U extends boolean = false, R extends boolean = false>(
  schema: S,
  o: { readonly post?: P; readonly put?: U; readonly required?: R; readonly default?: z.output<S> } = {},
): AttributeDecl<S, P, U, R> {
  return {
    schema,
    post: (o.post ?? true) as P,
    put: (o.put ?? false) as U,
    required: (o.required ?? false) as R,
    ...(o.default === undefined ? {} : { default: o.default }),
  };
}

/** An attribute the server sets and shows (filterable, sortable), never the client. */
export function readOnly(): AttributeDecl<z.ZodNever, false, false, false> {
  return { schema: z.never(), post: false, put: false, required: false };
}

type CreateShape<A extends Attributes> = {
  -readonly [K in keyof A as A[K]['post'] extends true ? K : never]: A[K]['required'] extends true ? A[K]['schema'] : z.ZodOptional<A[K]['schema']>;
};
type UpdateShape<A extends Attributes> = {
  -readonly [K in keyof A as A[K]['put'] extends true ? K : never]: z.ZodOptional<A[K]['schema']>;
};

/** Issue params of a missing required attribute (the parser words it as Neutron does). */
export interface RequiredParams {
  readonly required: true;
}

/** A Neutron resource declared once: its attribute map, and the create and update schemas (and types) made from it. */
export interface ResourceDecl<A extends Attributes> {
  /** The body key of one (`security_group`). */
  readonly resource: string;
  /** The body key of a list (`security_groups`). */
  readonly collection: string;
  readonly attributes: A;
  readonly create: z.ZodObject<CreateShape<A>>;
  readonly update: z.ZodObject<UpdateShape<A>>;
  /** Neutron's defaults of the attributes that have one. */
  readonly defaults: Readonly<Record<string, unknown>>;
}

/** What a valid create body gives the service (defaults filled in by the parser). */
export type CreateInput<D extends ResourceDecl<Attributes>> = z.output<D['create']>;
/** What a valid update body gives the service: only what the client sent. */
export type UpdateInput<D extends ResourceDecl<Attributes>> = z.output<D['update']>;

export function defineResource<A extends Attributes>(resource: string, collection: string, attributes: A): ResourceDecl<A> {
  const createShape: Record<string, z.ZodType> = {};
  const updateShape: Record<string, z.ZodType> = {};
  const defaults: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(attributes)) {
    if (a.default !== undefined) defaults[name] = a.default;
    if (a.post)
      createShape[name] = a.required
        ? z
            .any()
            .refine((v) => v !== undefined, {
              error: `Failed to parse request. Required attribute '${name}' not specified`,
              params: { required: true } satisfies RequiredParams,
            })
            .pipe(a.schema)
        : a.schema.optional();
    if (a.put) updateShape[name] = a.schema.optional();
  }
  return {
    resource,
    collection,
    attributes,
    // The shapes are built from `attributes` by the rules CreateShape and UpdateShape state.
    create: z.strictObject(createShape) as unknown as z.ZodObject<CreateShape<A>>,
    update: z.strictObject(updateShape) as unknown as z.ZodObject<UpdateShape<A>>,
    defaults,
  };
}

/** The attributes a request set (zod leaves out what was not sent; this also drops any undefined), for spreading over a record. */
export function present<T extends object>(changes: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
