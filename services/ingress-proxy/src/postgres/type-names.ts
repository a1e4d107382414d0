/** Names of the built-in types a tool result names its columns by (pg_type oids, stable across releases). */
const NAMES: ReadonlyMap<number, string> = new Map([
  [16, 'bool'],
  [17, 'bytea'],
  [18, 'char'],
  [19, 'name'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [26, 'oid'],
  [114, 'json'],
  [700, 'float4'],
  [701, 'float8'],
  [1042, 'bpchar'],
  [1043, 'varchar'],
  [1082, 'date'],
  [1083, 'time'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
  [1186, 'interval'],
  [1700, 'numeric'],
  [2950, 'uuid'],
  [3802, 'jsonb'],
  [1000, 'bool[]'],
  [1007, 'int4[]'],
  [1009, 'text[]'],
  [1016, 'int8[]'],
]);

export function typeName(oid: number): string {
  return NAMES.get(oid) ?? `oid ${oid}`;
}
