// `npm run db -- analyze`: the hot queries as the code sends them, timed and explained.
export { type Capture, type CapturedStatement, captureStatements, operation } from './capture.ts';
export { type ProfileOptions, profileStatements, readPlan, type StatementProfile } from './profile.ts';
export { type AnalysisHeader, analysisMarkdown, analysisPassed, analysisTable } from './report.ts';
