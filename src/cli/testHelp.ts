/** `looplag test --help`. */
export const TEST_HELP = `Usage: looplag test [options]

Runs the budgets in looplag.json as tests: each function or endpoint measured as
\`looplag run\` / \`looplag serve\` would, one line per budget, verdict first.

Options:
  --config FILE     the budget file (default: ./looplag.json; relative paths in it
                    are read from its folder, which is also the workspace)
  --filter TEXT     only the budgets whose name contains TEXT (repeatable)
  --junit FILE      also write JUnit XML (a testcase per budget) for CI systems
  --json            print a looplag.test/1 document instead of the lines
  --python PATH     the Python for budgets that name none
  --node PATH       the Node for budgets that name none
  --verbose         pass the sidecars' stderr through
  -h, --help        this help

Exit codes (the budgets' worst, in this order):
  130  interrupted (Ctrl+C): what finished is still printed and written
  1    a budget could not be measured
  124  a budget's measurement hit its --timeout
  5    calls or a server did not finish
  4    calls raised or requests failed
  3    a budget was exceeded
  2    usage: a bad flag, or looplag.json is invalid (the budget and field named)
  0    every budget within its budget
`;
