import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChanges } from './import-changes.js';

const refused = (changes: string[]): string => {
  try {
    applyChanges(changes);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
};

describe('import changes (BuildFromConfig)', () => {
  it('applies each instruction Docker accepts', () => {
    const config = applyChanges([
      'ENV A=1 B="two words"',
      'ENV A $B',
      'LABEL l=$A',
      'EXPOSE 80 53/udp 8000-8001',
      'USER nobody',
      'VOLUME ["/data"]',
      'VOLUME /a /b',
      'WORKDIR /srv',
      'WORKDIR sub/..//x',
      'STOPSIGNAL SIGTERM',
      'ENTRYPOINT ["/bin/busybox"]',
      'CMD echo hi',
      'HEALTHCHECK --interval=5s --retries=3 CMD ["true"]',
      'ONBUILD RUN make',
    ]);
    assert.deepEqual(config.Env, ['A=two words', 'B=two words']);
    assert.deepEqual(config.Labels, { l: 'two words' });
    assert.deepEqual(Object.keys(config.ExposedPorts ?? {}).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
    assert.equal(config.User, 'nobody');
    assert.deepEqual(Object.keys(config.Volumes ?? {}).sort(), ['/a', '/b', '/data']);
    assert.equal(config.WorkingDir, '/srv/x');
    assert.equal(config.StopSignal, 'SIGTERM');
    assert.deepEqual(config.Entrypoint, ['/bin/busybox']);
    assert.deepEqual(config.Cmd, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(config.Healthcheck, { Test: ['CMD', 'true'], Interval: 5_000_000_000, Retries: 3 });
    assert.deepEqual(config.OnBuild, ['RUN make']);
  });

  it('an ENTRYPOINT after a CMD resets it', () => {
    assert.equal(applyChanges(['CMD ["a"]', 'ENTRYPOINT ["b"]']).Cmd, undefined);
  });

  it('refuses bad lines in Docker\'s words', () => {
    assert.equal(refused(['RUN echo']), 'run is not a valid change command');
    assert.equal(refused(['FROM x']), 'from is not a valid change command');
    assert.equal(refused(['ENV']), 'ENV requires at least one argument');
    assert.equal(refused(['ENV A']), 'ENV must have two arguments');
    assert.equal(refused(['ENV A=1 B']), 'Syntax error - can\'t find = in "B". Must be of the form: name=value');
    assert.equal(refused(['EXPOSE abc']), 'invalid containerPort: abc');
    assert.equal(refused(['EXPOSE 80/xyz']), 'invalid proto: xyz');
    assert.equal(refused(['STOPSIGNAL NOPE']), 'Invalid signal: NOPE');
    assert.equal(refused(['USER']), 'USER requires exactly one argument');
    assert.equal(refused(['CMD ["a", 1]']), 'when using JSON array syntax, arrays must be comprised of strings only');
    assert.equal(refused(['HEALTHCHECK NONE x']), 'HEALTHCHECK NONE takes no arguments');
    assert.equal(refused(['HEALTHCHECK FOO x']), 'Unknown type "FOO" in HEALTHCHECK (try CMD)');
    assert.equal(refused(['ONBUILD ONBUILD CMD x']), 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    assert.equal(refused(['ONBUILD FROM x']), 'FROM isn\'t allowed as an ONBUILD trigger');
  });
});
