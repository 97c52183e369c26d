import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as vscode from 'vscode';
import { activate } from '../../src/extension';
import { COMMANDS } from '../../src/host/ids';
import * as fake from '../support/fakeVscode';

test('activate registers every command, the two CodeLens providers and the serializer, and does no work up front', () => {
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-activate-'));
  try {
    const context = {
      subscriptions: [] as { dispose(): unknown }[],
      extensionUri: vscode.Uri.file('/ext'),
      storageUri: vscode.Uri.file(storage),
      globalStorageUri: vscode.Uri.file(storage),
      extension: { id: 'looplag.looplag', packageJSON: { version: '0.1.0' } },
      workspaceState: { get: () => undefined, update: async () => undefined },
    };
    activate(context as unknown as vscode.ExtensionContext);
    for (const id of Object.values(COMMANDS)) assert.ok(fake.registered.commands.has(id), id);
    // The function lens and the endpoint lens (above route handlers).
    assert.equal(fake.registered.codeLensProviders.length, 2);
    assert.ok(fake.serializers.has('looplag.report'));
    assert.match(fake.logLines.join('\n'), /Loop Lag 0\.1\.0 activated/);
    assert.equal(fake.created.length, 0, 'no panel is opened at activation');
    for (const d of context.subscriptions) d.dispose();
    assert.equal(fake.registered.commands.size, 0, 'every registration is disposed with the extension');
  } finally {
    fs.rmSync(storage, { recursive: true, force: true });
  }
});
