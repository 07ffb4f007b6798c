export interface ConfigIssue {
  /** The environment variable at fault, e.g. `PORT`. */
  variable: string;
  /** A full sentence naming the variable, the allowed values and the (redacted) value given. */
  message: string;
}

/** Thrown once at start-up with every bad variable, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((issue) => issue.message).join('; '));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
