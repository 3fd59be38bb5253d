// The native path's guards (model/ortCapi.ts): the C API is used only for onnxruntime versions whose
// function table it was written for, and only for the library its onnxruntime-node package ships;
// anything else is refused with the reason (the decoder then copies its cache through the binding).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OrtCapi, versionProblem } from '../../language-server/src/model/ortCapi';

test('a mismatched or unknown onnxruntime version is refused with the reason', () => {
  assert.equal(versionProblem('1.30.0', '1.30.0'), undefined);
  assert.equal(versionProblem('1.13.1', undefined), undefined);
  assert.match(versionProblem('1.30.0', '1.29.1') ?? '', /library is 1\.30\.0 but onnxruntime-node is 1\.29\.1: a mixed install/);
  assert.match(versionProblem('1.12.0', '1.12.0') ?? '', /written for 1\.13 to 1\.x/);
  assert.match(versionProblem('2.0.0', '2.0.0') ?? '', /written for 1\.13 to 1\.x/);
  assert.match(versionProblem('', '1.30.0') ?? '', /reports the version "", which is not one this build knows/);
  assert.match(versionProblem('garbage\u0000', '1.30.0') ?? '', /not one this build knows/);
});

test('the installed library passes its own check', () => {
  const pkg = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string };
  assert.equal(OrtCapi.load().version, pkg.version);
});
