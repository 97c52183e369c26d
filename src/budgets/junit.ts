/**
 * `looplag test --junit FILE`: the budgets as JUnit XML, the format Jenkins' JUnit plugin and
 * GitLab's `artifacts:reports:junit` read: `<testsuites>` around one `<testsuite>` with a
 * `<testcase>` per budget (`time` in seconds), `<failure message="headline">` for a budget
 * exceeded, `<error>` for one not measured, `<skipped>` for one the run was stopped before.
 * Pure. Every string is escaped: names and messages come from the user's file and code.
 */
import type { BudgetResult } from './run';

export interface JunitSuite {
  /** The budget file as given (the suite's name and each case's classname). */
  file: string;
  /** When the run started: ISO 8601 without a zone, as Ant's schema writes it (`2026-11-30T13:20:23`). */
  timestamp: string;
}

export function junitXml(results: readonly BudgetResult[], suite: JunitSuite): string {
  const count = (o: BudgetResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const totals = `tests="${results.length}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds(results.reduce((a, r) => a + r.durationMs, 0))}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="looplag test" ${totals}>`,
    `  <testsuite name="${attr(suite.file)}" ${totals} timestamp="${attr(suite.timestamp)}">`,
    ...results.map((r) => testcase(r, suite.file)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ];
  return lines.join('\n');
}

function testcase(r: BudgetResult, file: string): string {
  const open = `    <testcase name="${attr(r.name)}" classname="${attr(file)}" time="${seconds(r.durationMs)}"`;
  // GitLab shows the element's text, not its message: the headline goes in both.
  const figures = `${r.summary}${r.message ? `: ${r.message}` : ''} (exit ${r.exitCode ?? '-'})`;
  if (r.outcome === 'pass') return `${open}>\n      <system-out>${text(r.summary)}</system-out>\n    </testcase>`;
  if (r.outcome === 'skipped') return `${open}>\n      <skipped message="${attr(r.message)}"/>\n    </testcase>`;
  const element = r.outcome === 'fail' ? 'failure' : 'error';
  const type = r.outcome === 'fail' ? 'budget-exceeded' : `exit-${r.exitCode}`;
  return `${open}>\n      <${element} message="${attr(r.message || r.summary)}" type="${type}">${text(figures)}</${element}>\n    </testcase>`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * Characters XML 1.0 cannot hold even escaped (C0 controls but tab, newline and carriage
 * return; lone surrogates; U+FFFE and U+FFFF) become U+FFFD: a strict parser would refuse the file.
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Element text; a carriage return as a character reference (a parser turns a literal one into a newline). */
export function text(s: string): string {
  return s.replace(NOT_XML, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** An attribute value in double quotes; line breaks and tabs as character references, which attribute normalization would otherwise turn into spaces. */
export function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
