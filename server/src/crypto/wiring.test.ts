// Which KEK the configuration selects, and the settings rotation depends on.
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../config.js';
import { keyringFor } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { LocalKek } from './kek.js';
import { KmsKek } from './kms.js';

const key = () => randomBytes(32);

describe('KEK selection', () => {
  test('the local master key by default, rotating every 90 days', () => {
    const master = key();
    const config = testConfig({ PARLEY_MASTER_KEY: master.toString('base64') });
    expect(config.dataKeyRotationDays).toBe(90);
    const keyring = keyringFor(config);
    expect(keyring.kek).toBeInstanceOf(LocalKek);
    expect(keyring.kek.id).toBe(new LocalKek(master).id);
    expect(keyring.previous).toEqual([]);
  });

  test('KMS when PARLEY_KMS_KEY_ID is set, still reading keys wrapped by the master keys until rewrapped', () => {
    const [master, previous] = [key(), key()];
    const keyring = keyringFor(
      testConfig({
        PARLEY_KMS_KEY_ID: 'alias/parley-data-keys',
        PARLEY_MASTER_KEY: master.toString('base64'),
        PARLEY_PREVIOUS_MASTER_KEY: previous.toString('base64'),
        PARLEY_DATA_KEY_ROTATION_DAYS: '30',
      }),
    );
    expect(keyring.kek).toBeInstanceOf(KmsKek);
    expect(keyring.kek.id).toBe('kms:alias/parley-data-keys');
    expect(keyring.previous.map((k) => k.id)).toEqual([new LocalKek(master).id, new LocalKek(previous).id]);
    expect(keyring.kekFor(new LocalKek(previous).id)).toBe(keyring.previous[1]);
  });

  test.each([
    ['PARLEY_DATA_KEY_ROTATION_DAYS', { PARLEY_DATA_KEY_ROTATION_DAYS: '0' }],
    ['PARLEY_DATA_KEY_ROTATION_DAYS', { PARLEY_DATA_KEY_ROTATION_DAYS: 'soon' }],
    ['PARLEY_PREVIOUS_MASTER_KEY', { PARLEY_PREVIOUS_MASTER_KEY: randomBytes(16).toString('base64') }],
    ['PARLEY_KMS_KEY_ID', { PARLEY_KMS_KEY_ID: '  ' }],
  ])('a bad %s is refused by name', (setting, env) => {
    expect(() => testConfig(env)).toThrow(ConfigError);
    expect(() => testConfig(env)).toThrow(setting);
  });
});
