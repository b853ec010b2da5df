import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exitStatus, parseExecRequest } from './exec-server.ts';

describe('parseExecRequest', () => {
  it('reads the kubelet\'s form of an exec, as the API server passes it on', () => {
    assert.deepEqual(parseExecRequest('/exec/ns/pod/c?command=sh&command=-c&command=echo+a%3Bb&input=1&output=1&error=1'), {
      namespace: 'ns', pod: 'pod', container: 'c', command: ['sh', '-c', 'echo a;b'], stdin: true, stdout: true, stderr: true,
    });
    // With the pod's uid before the container; streams left out are off.
    assert.deepEqual(parseExecRequest('/exec/ns/pod/0a1b/c?command=true&error=true'), {
      namespace: 'ns', pod: 'pod', container: 'c', command: ['true'], stdin: false, stdout: false, stderr: true,
    });
  });

  it('refuses what it cannot run, saying why', () => {
    assert.deepEqual(parseExecRequest('/attach/ns/pod/c?output=1'), { status: 404, message: 'no such kubelet endpoint: /attach/ns/pod/c' });
    assert.deepEqual(parseExecRequest('/exec/ns/pod?command=true&output=1'), { status: 404, message: 'no such kubelet endpoint: /exec/ns/pod' });
    assert.deepEqual(parseExecRequest('/exec/ns//c?command=true&output=1'), { status: 404, message: 'no such kubelet endpoint: /exec/ns//c' });
    assert.deepEqual(parseExecRequest('/exec/ns/pod/c?output=1'), { status: 400, message: 'you must specify a command' });
    assert.deepEqual(parseExecRequest('/exec/ns/pod/c?command=true'), { status: 400, message: 'you must specify at least 1 of stdin, stdout, stderr' });
    assert.deepEqual(parseExecRequest('/exec/ns/pod/c?command=true&output=1&tty=1'), { status: 400, message: 'tty is not supported by the simulated kubelet' });
  });
});

describe('exitStatus', () => {
  it('is Success for exit 0, and NonZeroExitCode with the code otherwise (128 + the signal when killed)', () => {
    assert.deepEqual(exitStatus(['true'], 0, null), { metadata: {}, status: 'Success' });
    assert.deepEqual(exitStatus(['sh', '-c', 'exit 3'], 3, null), {
      metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    assert.equal((exitStatus(['sleep', '9'], null, 'SIGTERM') as { details: { causes: { message: string }[] } }).details.causes[0]?.message, '143');
  });
});
