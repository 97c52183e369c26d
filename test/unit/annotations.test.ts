/**
 * The editor's annotations of blocking lines (issue 13): the text and hover from a
 * synthetic report (report/annotationText.ts), anchors through edits, and the host class
 * over the fake `vscode` (decorations per visible editor, hover, clear, the setting).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import * as vscode from 'vscode';
import { EditorAnnotations } from '../../src/host/annotations';
import { codeBlock, inlineMarkdown, lineAnnotations, shiftAnchors, sourceMatches } from '../../src/report/annotationText';
import { Advice, Blocker, Report } from '../../src/shared/protocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES, REPO } from '../support/helpers';

const ROOT = '/w/app';
const SOURCE = 'return pow(base, exponent).bit_length()';

function blocker(over: Partial<Blocker> = {}): Blocker {
  const file = over.file === undefined ? 'svc/jobs.py' : over.file;
  const line = over.line === undefined ? 12 : over.line;
  const fn = over.function ?? 'crunch';
  return {
    file, line, function: fn, source: SOURCE, thread: 'loop', step: 'call',
    stalledMs: 1150, share: 0.82, samples: 40, stalls: 3,
    stack: [{ file, line, function: fn, kind: 'user' }], library: null,
    ...over,
  };
}

function report(blockers: Partial<Record<'inline' | 'thread' | 'process', Blocker[]>>, advice: Advice[] = []): Report {
  const base = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
  return {
    ...base,
    target: { ...base.target, file: `${ROOT}/svc/jobs.py` },
    runs: base.runs.map((r) => (blockers[r.mode as 'inline'] ? { ...r, blockers: blockers[r.mode as 'inline'] } : r)),
    advice,
  };
}

const advice = (over: Partial<Advice>): Advice => ({ id: 'x', severity: 'warning', title: 'T', detail: 'D', mode: null, fix: null, docs: null, ...over });

test('one mode: one annotation at the 0-based line of the absolute file, in the mode table\'s words', () => {
  const [a, ...rest] = lineAnnotations(report({ inline: [blocker()] }), ROOT);
  assert.deepEqual(rest, []);
  assert.equal(a.file, `${ROOT}/svc/jobs.py`);
  assert.equal(a.line, 11);
  assert.equal(a.source, SOURCE);
  assert.equal(a.text, '▲ blocked the loop 1.15 s inline');
});

test('several modes on a line merge into one annotation, in report order; two blockers of one mode and thread add up', () => {
  const r = report({
    thread: [blocker({ thread: 'gil-holder', stalledMs: 600, share: 0.4 }), blocker({ thread: 'gil-holder', stalledMs: 315, share: 0.2 })],
    inline: [blocker(), blocker({ line: 20, stalledMs: 40, share: 0.03, stack: [{ file: 'svc/jobs.py', line: 20, function: 'crunch', kind: 'user' }] })],
    process: [blocker({ stalledMs: 12 })],
  });
  const all = lineAnnotations(r, ROOT);
  assert.deepEqual(all.map((a) => a.line), [11, 19]);
  assert.equal(all[0].text, '▲ blocked the loop 1.15 s inline · held the GIL 915.0 ms in a thread pool · blocked the loop 12.0 ms in a process pool');
  assert.equal(all[1].text, '▲ blocked the loop 40.0 ms inline');
  assert.match(all[0].hover, /`crunch` held the GIL \*\*915\.0 ms\*\* in a thread pool: 60% of the stalled time, in 3 stalls/);
});

test('only the user\'s own calls in the workspace: no library line, no serialization step, nothing outside the folder', () => {
  const lib = { file: 'lxml/etree.py', line: 3, function: 'fromstring', kind: 'library' as const };
  const r = report({
    inline: [
      blocker({ file: 'lxml/etree.py', line: 3, stack: [lib] }),
      blocker({ step: 'serialize-args', thread: 'main' }),
      blocker({ file: '../other/evil.py', stack: [{ file: '../other/evil.py', line: 12, function: 'f', kind: 'user' }] }),
      blocker({ file: '/etc/passwd', stack: [{ file: '/etc/passwd', line: 12, function: 'f', kind: 'user' }] }),
      blocker({ line: null }),
      blocker({ file: null }),
    ],
  });
  assert.deepEqual(lineAnnotations(r, ROOT), []);
  // The same blockers with a user line among them: only that one.
  const ok = lineAnnotations(report({ inline: [...r.runs[0].blockers!, blocker({ library: lib })] }), ROOT);
  assert.equal(ok.length, 1);
  assert.match(ok[0].hover, /→ `lxml\.etree\.fromstring`/);
});

test('the hover picks the advice whose `at` is the line, else the run\'s first advice for the mode that is not ok; the fix is a code block', () => {
  const atLine = advice({ id: 'inline-blocks-loop', mode: 'inline', title: 'At the line', detail: 'most of it was `pow(base, exponent)`', fix: 'await asyncio.to_thread(crunch, 3)', at: { file: 'svc/jobs.py', line: 12 } });
  const other = advice({ id: 'gil-held-native', mode: 'inline', title: 'Top for inline', at: { file: 'svc/jobs.py', line: 40 } });
  const ok = advice({ id: 'safe', severity: 'ok', mode: 'thread', title: 'Fine in threads' });
  const threadTop = advice({ id: 'gil-contention', mode: 'thread', title: 'Top for thread' });
  const [a] = lineAnnotations(report({ inline: [blocker()], thread: [blocker({ thread: 'gil-holder' })] }, [other, atLine, ok, threadTop]), ROOT);
  assert.match(a.hover, /\*\*At the line\*\*\n\nmost of it was `pow\(base, exponent\)`\n\n```python\nawait asyncio\.to_thread\(crunch, 3\)\n```/);
  assert.match(a.hover, /\*\*Top for thread\*\*/);
  assert.doesNotMatch(a.hover, /Top for inline|Fine in threads/);
  // No advice names the line: inline's first that is not ok.
  const [b] = lineAnnotations(report({ inline: [blocker()] }, [ok, other, threadTop]), ROOT);
  assert.match(b.hover, /\*\*Top for inline\*\*/);
  assert.doesNotMatch(b.hover, /Top for thread/);
});

test('the hover escapes everything from the report: no HTML, link, image or emphasis survives; code keeps its backticks', () => {
  const evil = '<img src=x onerror=alert(1)> [click](command:looplag.cancel) ![i](https://x/y.png) *b* https://x.io';
  const [a] = lineAnnotations(report({ inline: [blocker({ function: evil })] }, [
    advice({ mode: 'inline', title: evil, detail: `${evil} and \`a\`b\` code`, fix: 'x = "```"\n```\nprint(x)', docs: 'javascript:alert(1)' }),
  ]), ROOT);
  // Code spans show their text as code; outside them, every special character is escaped.
  const outsideCode = a.hover.replace(/^(`{3,})\w*\n[\s\S]*?\n\1$/gm, '').replace(/(?<![\\`])(`+)[^`][\s\S]*?[^`\\]\1(?!`)/g, '');
  assert.match(a.hover, /`<img src=x onerror=alert\(1\)> \[click\]\(command:looplag\.cancel\) !\[i\]\(https:\/\/x\/y\.png\) \*b\* https:\/\/x\.io` blocked/);
  assert.doesNotMatch(outsideCode, /[^\\]<img|[^\\]\]\(|[^\\]!\[|[^\\]\*b|[^\\]:\/\//);
  assert.match(outsideCode, /\\<img src=x onerror=alert\\\(1\\\)\\>/);
  assert.doesNotMatch(a.hover, /javascript:/, 'a docs link that is not https is left out');
  assert.match(a.hover, /````python\nx = "```"\n```\nprint\(x\)\n````/, 'the fence outlasts the code\'s backticks');
  assert.equal(inlineMarkdown('a `x<y` b'), 'a `x<y` b');
  assert.equal(inlineMarkdown('odd ` tick'), 'odd \\` tick');
  assert.equal(codeBlock('print(1)\n', 'py"thon'), '```python\nprint(1)\n```');
});

const at = (...lines: number[]) => lines.map((line) => ({ line }));
const edit = (startLine: number, startCharacter: number, endLine: number, endCharacter: number, text: string) => ({ startLine, startCharacter, endLine, endCharacter, text });

test('anchors follow edits: above moves them, on the line drops it, below leaves it', () => {
  // A line inserted above (Enter at the end of line 2).
  assert.deepEqual(shiftAnchors(at(1, 5, 9), edit(2, 7, 2, 7, '\n')), at(1, 6, 10));
  // Two lines deleted above (lines 2-3, whole).
  assert.deepEqual(shiftAnchors(at(1, 5, 9), edit(2, 0, 4, 0, '')), at(1, 3, 7));
  // Typing on line 5 drops its anchor only.
  assert.deepEqual(shiftAnchors(at(1, 5, 9), edit(5, 4, 5, 4, 'x')), at(1, 9));
  // Enter at the start of line 5 pushes it down whole: kept, moved.
  assert.deepEqual(shiftAnchors(at(5), edit(5, 0, 5, 0, '\n')), at(6));
  // A paste over lines 3-6 that ends inside line 6: 3 to 6 drop, below shifts by the new count.
  assert.deepEqual(shiftAnchors(at(2, 3, 6, 7), edit(3, 2, 6, 1, 'a\nb')), at(2, 5));
  // Deleting from the middle of line 4 to column 0 of line 5 joins them: 5 changed.
  assert.deepEqual(shiftAnchors(at(5), edit(4, 3, 5, 0, '')), []);
  // Below the edit: untouched.
  assert.deepEqual(shiftAnchors(at(0), edit(3, 0, 3, 0, 'x\n')), at(0));
});

test('a line is annotated only while it holds the measured text (cut at 200 characters)', () => {
  assert.ok(sourceMatches(SOURCE, `    ${SOURCE}  `));
  assert.ok(sourceMatches(null, 'anything'));
  assert.ok(sourceMatches('x = 1 + …', 'x = 1 + 2 + 3'));
  assert.ok(!sourceMatches(SOURCE, 'def crunch(exponent, base=365):'));
});

// ---------------------------------------------------------------------------
// the host class over the fake vscode

class FakeDoc {
  constructor(readonly uri: vscode.Uri, public lines: string[]) {}
  get lineCount() {
    return this.lines.length;
  }
  lineAt(i: number) {
    return { text: this.lines[i], range: new fake.Range(new fake.Position(i, 0), new fake.Position(i, this.lines[i].length)) };
  }
}

class FakeEditor {
  decorations: { range: fake.Range; renderOptions: { after: { contentText: string } } }[] = [];
  constructor(readonly document: FakeDoc) {}
  setDecorations(_type: unknown, options: FakeEditor['decorations']) {
    this.decorations = options;
  }
  get texts() {
    return this.decorations.map((d) => `${(d.range.start as fake.Position).line}: ${d.renderOptions.after.contentText}`);
  }
}

function jobsFile(): string[] {
  return Array.from({ length: 30 }, (_, i) => (i === 11 ? `    ${SOURCE}` : `line ${i + 1}`));
}

const stub = fake.stubs();
afterEach(() => {
  stub.restore();
  fake.settings.clear();
});

function setup() {
  const doc = new FakeDoc(vscode.Uri.file(`${ROOT}/svc/jobs.py`), jobsFile());
  const editor = new FakeEditor(doc);
  stub.stub(fake.window, { visibleTextEditors: [editor] });
  stub.stub(fake.workspace, { getWorkspaceFolder: () => ({ uri: vscode.Uri.file(ROOT) }) });
  const shows = new fake.EventEmitter<Report | null>();
  const annotations = new EditorAnnotations(shows.event as never);
  const hover = (line: number) => fake.hoverProviders.at(-1)!.provider.provideHover(doc, new fake.Position(line, 3)) as fake.Hover | undefined;
  return { doc, editor, shows, annotations, hover };
}

test('EditorAnnotations: a shown report decorates its lines in visible editors, with an untrusted hover; null and Clear remove them', () => {
  const { editor, shows, annotations, hover } = setup();
  try {
    shows.fire(report({ inline: [blocker()] }, [advice({ mode: 'inline', title: 'Move it off the loop' })]));
    assert.deepEqual(editor.texts, ['11: ▲ blocked the loop 1.15 s inline']);
    const h = hover(11)!;
    assert.match(h.contents.value, /Move it off the loop/);
    assert.equal(h.contents.isTrusted, false);
    assert.equal(h.contents.supportHtml, false);
    assert.equal(hover(10), undefined, 'no hover on other lines');
    shows.fire(null); // a run starts
    assert.deepEqual(editor.texts, []);
    shows.fire(report({ inline: [blocker()] }));
    annotations.clear();
    assert.deepEqual(editor.texts, []);
    assert.equal(hover(11), undefined);
  } finally {
    annotations.dispose();
  }
});

test('EditorAnnotations: edits move or drop anchors; an editor shown later is drawn; a line that changed on disk is not', () => {
  const { doc, editor, shows, annotations } = setup();
  try {
    shows.fire(report({ inline: [blocker(), blocker({ line: 5, source: 'line 5', stack: [{ file: 'svc/jobs.py', line: 5, function: 'crunch', kind: 'user' }] })] }));
    assert.deepEqual(editor.texts, ['11: ▲ blocked the loop 1.15 s inline', '4: ▲ blocked the loop 1.15 s inline']);
    // A line typed above both (at line 2): the document, then the event, as VS Code does.
    doc.lines.splice(2, 0, 'new');
    fake.editorEvents.documentChanged.fire({ document: doc, contentChanges: [{ range: new fake.Range(new fake.Position(2, 0), new fake.Position(2, 0)), text: 'new\n' }] });
    assert.deepEqual(editor.texts, ['12: ▲ blocked the loop 1.15 s inline', '5: ▲ blocked the loop 1.15 s inline']);
    // Typing on the `line 5` line (now line 5): its annotation goes, the other stays.
    doc.lines[5] = 'line 5!';
    fake.editorEvents.documentChanged.fire({ document: doc, contentChanges: [{ range: new fake.Range(new fake.Position(5, 6), new fake.Position(5, 6)), text: '!' }] });
    assert.deepEqual(editor.texts, ['12: ▲ blocked the loop 1.15 s inline']);
    doc.lines[5] = 'line 5'; // undo: the measured figure is not brought back
    fake.editorEvents.documentChanged.fire({ document: doc, contentChanges: [{ range: new fake.Range(new fake.Position(5, 6), new fake.Position(5, 7)), text: '' }] });
    assert.deepEqual(editor.texts, ['12: ▲ blocked the loop 1.15 s inline']);

    // An editor of the document shown later (another split): drawn then, at the moved line.
    const again = new FakeEditor(doc);
    fake.editorEvents.visibleEditors.fire([again]);
    assert.deepEqual(again.texts, ['12: ▲ blocked the loop 1.15 s inline']);
    // The file as measured, while the anchor moved (its text changed on disk meanwhile): line 12 is not the measured text.
    const stale = new FakeEditor(new FakeDoc(vscode.Uri.file(`${ROOT}/svc/jobs.py`), jobsFile()));
    fake.editorEvents.visibleEditors.fire([stale]);
    assert.deepEqual(stale.texts, []);
  } finally {
    annotations.dispose();
  }
});

test('EditorAnnotations: looplag.annotations off hides them at once and on brings them back', () => {
  const { editor, shows, annotations, hover } = setup();
  try {
    shows.fire(report({ inline: [blocker()] }));
    assert.equal(editor.texts.length, 1);
    fake.settings.set('looplag.annotations', false);
    fake.editorEvents.configurationChanged.fire({ affectsConfiguration: (s) => 'looplag.annotations'.startsWith(s) });
    assert.deepEqual(editor.texts, []);
    assert.equal(hover(11), undefined);
    // A change to another setting leaves them alone.
    fake.settings.set('looplag.annotations', true);
    fake.editorEvents.configurationChanged.fire({ affectsConfiguration: (s) => s === 'looplag.concurrency' });
    assert.deepEqual(editor.texts, []);
    fake.editorEvents.configurationChanged.fire({ affectsConfiguration: (s) => 'looplag.annotations'.startsWith(s) });
    assert.deepEqual(editor.texts, ['11: ▲ blocked the loop 1.15 s inline']);
  } finally {
    annotations.dispose();
  }
});

test('package.json: the command, the setting (on by default) and the colour with a default per theme kind', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  assert.ok(pkg.contributes.commands.some((c: { command: string; title: string }) => c.command === 'looplag.clearAnnotations' && c.title === 'Clear Annotations'));
  const setting = pkg.contributes.configuration.properties['looplag.annotations'];
  assert.equal(setting.type, 'boolean');
  assert.equal(setting.default, true);
  const colour = pkg.contributes.colors.find((c: { id: string }) => c.id === 'looplag.blockedLineForeground');
  assert.deepEqual(Object.keys(colour.defaults).sort(), ['dark', 'highContrast', 'highContrastLight', 'light']);
});
