export { loadSqlParser } from './parser';
export { classifySql, type Classification } from './classify';
export { SqlClassifier } from './classifier';
export { DEFAULT_SEARCH_PATH, parseSearchPath, qualifyTables, tableCandidates, type SearchPath } from './search-path';
export { SQL_COMMANDS, resolveSqlCommand } from './commands';
