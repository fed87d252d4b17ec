import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MAX_BODY_BYTES_IN_FLIGHT, loadConfig } from './config.ts';

describe('ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT', () => {
  it('defaults to its named default, or to the body limit when that is larger', () => {
    expect(loadConfig({}).maxBodyBytesInFlight).toBe(DEFAULT_MAX_BODY_BYTES_IN_FLIGHT);
    expect(loadConfig({ ISTHMUS_MAX_BODY_BYTES: String(64 * 1_048_576) }).maxBodyBytesInFlight).toBe(64 * 1_048_576);
  });

  it('takes a bound of at least the body limit', () => {
    expect(loadConfig({ ISTHMUS_MAX_BODY_BYTES: '65536', ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT: '65536' }).maxBodyBytesInFlight).toBe(65_536);
  });

  it.each([
    [{ ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT: '1048575' }, 'ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT must be at least ISTHMUS_MAX_BODY_BYTES (1048576)'],
    [{ ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT: 'lots' }, 'ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT must be a whole number from 1024 to 17179869184'],
  ])('refuses %j, naming the setting', (env, problem) => {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([problem]);
  });
});
