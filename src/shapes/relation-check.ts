// Which shapes a Relation message affects (where-language.md §9.5): renames, recreated tables, used columns changed.
import type { RelationInfo } from '../replication/transaction-types.js';
import type { LiveShape } from './live-shape.js';

/**
 * Compares the relation as pgoutput now describes it with what the shape recorded at creation (table OID, names,
 * and the type OIDs of the columns it selects or filters on). Cheap: no router structure is touched.
 */
export function affectedByRelation(shape: LiveShape, rel: RelationInfo): boolean {
  const oidMatch = shape.tableOid === rel.oid;
  const nameMatch = shape.schema === rel.schema && shape.table === rel.table;
  if (!oidMatch && !nameMatch) return false;
  if (oidMatch !== nameMatch) return true; // renamed, or dropped and recreated under the same name
  if (shape.selectsAll && rel.columns.length !== shape.columnCount) return true;
  for (const [name, typeOid] of Object.entries(shape.usedColumns)) {
    const c = rel.columns.find((col) => col.name === name);
    if (c === undefined || c.typeOid !== typeOid) return true;
  }
  return false;
}
