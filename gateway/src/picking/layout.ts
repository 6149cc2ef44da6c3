/**
 * The floor as picking sees it: locations (the shelf barcode is the code), where they are, and
 * how far a picker walks between them. Pure: no I/O.
 *
 * The walk model is the classic parallel-aisle warehouse with a front and a back cross-aisle
 * (Roodbergen & de Koster, "Routing methods for warehouses with multiple cross aisles", IJPR
 * 39(9), 2001; the S-shape heuristic is their "traversal" policy): aisles run front to back,
 * `bay` counts along an aisle from the front cross-aisle (bay 1 is nearest), levels are stacked
 * and cost no walking. Between two aisles a picker leaves through the front or the back,
 * whichever is shorter. The depot (the packing area) sits at the front of aisle 1.
 */

export type LocationKind = 'pick' | 'reserve';

export interface Location {
  /** The barcode on the shelf label. */
  code: string;
  zone: string;
  aisle: number;
  bay: number;
  level: number;
  /** An explicit walk sequence from the site survey; when every location of a walk has one it wins. */
  walkSeq: number | null;
  /** A pick face (picked from) or reserve (replenishes the faces). */
  kind: LocationKind;
  /** Pick-face capacity in units; null when the face has no replenishment rule. */
  capacity: number | null;
  /** Replenish when the face falls below this many units (货位补货 trigger); null: never. */
  trigger: number | null;
}

export interface Geometry {
  /** Centre-to-centre distance between neighbouring aisles, metres. */
  aisleSpacingM: number;
  /** Width of one bay along the aisle, metres. */
  bayWidthM: number;
  /** Bays per aisle (the back cross-aisle lies behind the last one). */
  baysPerAisle: number;
}

/** 3 m aisle pitch, 1.3 m bays: a common light-goods shelving layout. */
export const DEFAULT_GEOMETRY: Geometry = { aisleSpacingM: 3, bayWidthM: 1.3, baysPerAisle: 30 };

/** A point on the floor for the walk model; the depot is aisle 1, bay 0 (the front cross-aisle). */
interface Spot {
  aisle: number;
  bay: number;
}

export const DEPOT: Spot = { aisle: 1, bay: 0 };

/** Metres between two spots: along one aisle directly, across aisles through the nearer cross-aisle. */
export function walkBetween(a: Spot, b: Spot, g: Geometry): number {
  if (a.aisle === b.aisle) return Math.abs(a.bay - b.bay) * g.bayWidthM;
  const back = g.baysPerAisle + 1;
  const along = Math.min(a.bay + b.bay, 2 * back - a.bay - b.bay);
  return along * g.bayWidthM + Math.abs(a.aisle - b.aisle) * g.aisleSpacingM;
}

/** Metres from the depot through every spot in the given order and back to the depot. */
export function walkLength(route: readonly Spot[], g: Geometry = DEFAULT_GEOMETRY): number {
  let total = 0;
  let at: Spot = DEPOT;
  for (const s of route) {
    total += walkBetween(at, s, g);
    at = s;
  }
  return total + walkBetween(at, DEPOT, g);
}

/**
 * The S-shape (traversal) order: the aisles that hold a pick are visited in ascending order,
 * the first walked front to back, the next back to front, and so on; within an aisle the bays
 * follow the walking direction and the levels of one bay go bottom up.
 */
export function sShapeOrder<T>(items: readonly T[], at: (item: T) => Location): T[] {
  const aisles = [...new Set(items.map((i) => at(i).aisle))].sort((a, b) => a - b);
  const direction = new Map(aisles.map((a, i) => [a, i % 2 === 0 ? 1 : -1]));
  return [...items].sort((x, y) => {
    const a = at(x);
    const b = at(y);
    if (a.aisle !== b.aisle) return a.aisle - b.aisle;
    if (a.bay !== b.bay) return (a.bay - b.bay) * (direction.get(a.aisle) ?? 1);
    if (a.level !== b.level) return a.level - b.level;
    return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
  });
}

/**
 * The pick path: the configured walk sequence when every location of the route has one (a
 * site whose shelving is not a simple grid surveys it), otherwise the S-shape.
 */
export function pickPathOrder<T>(items: readonly T[], at: (item: T) => Location): T[] {
  if (items.length > 0 && items.every((i) => at(i).walkSeq !== null)) {
    return [...items].sort((x, y) => (at(x).walkSeq ?? 0) - (at(y).walkSeq ?? 0) || (at(x).code < at(y).code ? -1 : 1));
  }
  return sShapeOrder(items, at);
}
