/**
 * The documentation of each rule a static hint mirrors (a hint's `code` links to it, as
 * linters' diagnostics do): ruff's flake8-async rules, eslint-plugin-n's `no-sync`, and
 * blockbuster for the few calls beyond them. blockingApis.ts names the rule per API.
 */
export const RULE_DOCS: { readonly [rule: string]: string } = {
  ASYNC210: 'https://docs.astral.sh/ruff/rules/blocking-http-call-in-async-function/',
  ASYNC220: 'https://docs.astral.sh/ruff/rules/create-subprocess-in-async-function/',
  ASYNC221: 'https://docs.astral.sh/ruff/rules/run-process-in-async-function/',
  ASYNC222: 'https://docs.astral.sh/ruff/rules/wait-for-process-in-async-function/',
  ASYNC230: 'https://docs.astral.sh/ruff/rules/blocking-open-call-in-async-function/',
  ASYNC250: 'https://docs.astral.sh/ruff/rules/blocking-input-in-async-function/',
  ASYNC251: 'https://docs.astral.sh/ruff/rules/blocking-sleep-in-async-function/',
  'n/no-sync': 'https://github.com/eslint-community/eslint-plugin-n/blob/master/docs/rules/no-sync.md',
  blockbuster: 'https://github.com/cbornet/blockbuster',
};

/** Where a rule is documented (every rule of blockingApis.ts has an entry: a unit test checks). */
export function ruleDoc(rule: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(RULE_DOCS, rule) ? RULE_DOCS[rule] : undefined;
}
