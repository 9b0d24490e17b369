declare module "qlobber" {
  export type QlobberOptions = {
    separator?: string;
    wildcard_one?: string;
    wildcard_some?: string;
    match_empty_levels?: boolean;
  };
  export class QlobberDedup<V = unknown> {
    constructor(options?: QlobberOptions);
    add(topic: string, value: V): this;
    remove(topic: string, value?: V): this;
    match(topic: string): Set<V>;
    match_iter(topic: string): IterableIterator<V>;
    test(topic: string, value: V): boolean;
    clear(): this;
  }
}
