import catalogue from './event-types.json';

export interface EventTypeInfo {
  type: string;
  object_type: string;
}
export interface EventTypeGroup {
  group: string;
  event_types: EventTypeInfo[];
}

export const EVENT_TYPE_GROUPS: readonly EventTypeGroup[] = catalogue.groups;

const objectTypeByType = new Map<string, string>(EVENT_TYPE_GROUPS.flatMap((g) => g.event_types.map((t) => [t.type, t.object_type] as const)));

/** Group wildcards such as `identity.*`, one per top-level prefix in the catalogue. */
const WILDCARDS = new Set([...objectTypeByType.keys()].map((t) => `${t.split('.')[0]}.*`));

export function isKnownEventType(type: string): boolean {
  return objectTypeByType.has(type);
}

export function objectTypeOf(type: string): string | undefined {
  return objectTypeByType.get(type);
}

/** A subscription entry is a catalogue type or a group wildcard. */
export function isValidSubscription(entry: string): boolean {
  return objectTypeByType.has(entry) || WILDCARDS.has(entry);
}

export function subscriptionMatches(entry: string, type: string): boolean {
  if (entry.endsWith('.*')) return type.startsWith(entry.slice(0, -1));
  return entry === type;
}

export function subscribesTo(entries: readonly string[], type: string): boolean {
  return entries.some((e) => subscriptionMatches(e, type));
}
