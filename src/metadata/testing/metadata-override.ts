import type { MetadataStore } from '../metadata-store.js';
import type { MetadataTx } from '../metadata-transaction.js';

/** Replacements for some members, given the store or transaction they apply to and its wrapped self. */
export type MetadataOverrides = (inner: MetadataTx, self: MetadataTx) => Partial<MetadataTx>;

/**
 * `inner` with some members replaced, in the store and in every transaction it hands out: how
 * tests build a deliberately broken store (conformance-faults.test.ts) without a copy of one.
 */
export function overrideMetadataStore(inner: MetadataStore, overrides: MetadataOverrides): MetadataStore {
  return wrap(inner, overrides);
}

function wrap<T extends MetadataTx>(inner: T, overrides: MetadataOverrides): T {
  let own: Partial<MetadataTx> = {};
  const self = new Proxy(inner, {
    get(target, prop) {
      if (prop in own) return own[prop as keyof MetadataTx];
      if (prop === 'transaction' || prop === 'removal') {
        return <R>(fn: (tx: MetadataTx) => Promise<R>): Promise<R> => target[prop]((tx) => fn(wrap(tx, overrides)));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  own = overrides(inner, self);
  return self;
}
