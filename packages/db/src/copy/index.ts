// `npm run db -- copy | verify`: moving an installation between SQLite and PostgreSQL.
export {
  type CopiedTable,
  type CopyOptions,
  CopyRefusedError,
  type CopyReport,
  copyDatabase,
} from './copy.ts';
export { type ProgressSink, silentProgress, streamProgress } from './progress.ts';
export { DatabaseOpenError } from './side.ts';
export {
  formatVerification,
  type TableVerification,
  type VerificationReport,
  type VerifyOptions,
  verifyDatabases,
} from './verify.ts';
