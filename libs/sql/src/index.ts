export { loadSqlParser } from './parser';
export { classifySql, type Classification } from './classify';
export { SqlClassifier } from './classifier';
export { DEFAULT_SEARCH_PATH, parseSearchPath, qualifyTables, tableCandidates, type SearchPath } from './search-path';
export { sessionEffects, type SearchPathEffect, type SessionEffects } from './session-effects';
export {
  UNRESOLVED_RULE,
  VIEW_DEPTH,
  VIEW_SEARCH_PATH,
  parseStatements,
  referencedRelations,
  statementDataFlow,
  type DataFlowContext,
  type MaskedColumns,
  type RelationInfo,
  type RelationSource,
  type StatementFlow,
} from './data-flow';
export { shapeOf } from './shape';
export { SQL_COMMANDS, resolveSqlCommand } from './commands';
