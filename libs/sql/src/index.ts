export { loadSqlParser } from './parser';
export { classifySql, type Classification } from './classify';
export { SqlClassifier } from './classifier';
