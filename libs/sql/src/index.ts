export { loadSqlParser } from './parser';
export { classifySql, type Classification } from './classify';
export { SqlClassifier } from './classifier';
export { DEFAULT_SEARCH_PATH, parseSearchPath, qualifyTables, tableCandidates, type SearchPath } from './search-path';
export { sessionEffects, type SearchPathEffect, type SessionEffects } from './session-effects';
