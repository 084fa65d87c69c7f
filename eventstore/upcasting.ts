import type { JsonObject } from './json.js';

/**
 * Events are never rewritten: an old schema version is upcast to the current one each time it is read.
 * An upcaster is a pure function from a stored (type, version, data) to the current version and data.
 */
export type Upcaster = (type: string, schema_version: number, data: JsonObject) => Readonly<{ schema_version: number; data: JsonObject }>;

export const noUpcasting: Upcaster = (_type, schema_version, data) => ({ schema_version, data });

/** One step per (type, from_version): `steps['customer-registered'][1]` turns version 1 data into version 2. */
export type UpcastSteps = Readonly<Record<string, Readonly<Record<number, (data: JsonObject) => JsonObject>>>>;

/** Chains the steps until no step applies, so a version 1 event read today arrives as the newest version. */
export function upcasterFrom(steps: UpcastSteps): Upcaster {
  return (type, schema_version, data) => {
    const forType = steps[type];
    if (forType === undefined) return { schema_version, data };
    let version = schema_version;
    let current = data;
    for (let step = forType[version]; step !== undefined; step = forType[version]) {
      current = step(current);
      version += 1;
    }
    return { schema_version: version, data: current };
  };
}
