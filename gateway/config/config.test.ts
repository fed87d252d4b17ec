import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_AUTH_THROTTLE_CAPACITY,
  DEFAULT_AUTH_THROTTLE_FAILURES,
  DEFAULT_AUTH_THROTTLE_PENALTY_SECONDS,
  DEFAULT_AUTH_THROTTLE_WINDOW_SECONDS,
  DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
  DEFAULT_MAX_COST,
  loadConfig,
} from './config.ts';

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

describe('cost limit, failed-authentication throttle and trusted proxies', () => {
  it('has named defaults and reads good values', () => {
    const config = loadConfig({ ISTHMUS_MAX_COST: '500', ISTHMUS_AUTH_THROTTLE_FAILURES: '3', ISTHMUS_TRUSTED_PROXIES: '10.0.0.2, ::ffff:10.0.0.3' });
    expect(config.maxCost).toBe(500);
    expect(config.authThrottle).toEqual({ failures: 3, windowSeconds: DEFAULT_AUTH_THROTTLE_WINDOW_SECONDS, penaltySeconds: DEFAULT_AUTH_THROTTLE_PENALTY_SECONDS, capacity: DEFAULT_AUTH_THROTTLE_CAPACITY });
    expect(config.trustedProxies.listed).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(loadConfig({}).maxCost).toBe(DEFAULT_MAX_COST);
    expect(loadConfig({}).authThrottle.failures).toBe(DEFAULT_AUTH_THROTTLE_FAILURES);
  });

  it('reports every bad setting together, naming each', () => {
    let thrown: unknown;
    try {
      loadConfig({
        ISTHMUS_MAX_COST: '0',
        ISTHMUS_AUTH_THROTTLE_FAILURES: '-1',
        ISTHMUS_AUTH_THROTTLE_WINDOW_SECONDS: 'soon',
        ISTHMUS_AUTH_THROTTLE_PENALTY_SECONDS: '0',
        ISTHMUS_AUTH_THROTTLE_CAPACITY: '1.5',
        ISTHMUS_TRUSTED_PROXIES: '10.0.0.2,0.0.0.0/0',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      'ISTHMUS_MAX_COST must be a whole number from 1 to 1000000000',
      'ISTHMUS_AUTH_THROTTLE_FAILURES must be a whole number from 1 to 100000',
      'ISTHMUS_AUTH_THROTTLE_WINDOW_SECONDS must be a whole number from 1 to 86400',
      'ISTHMUS_AUTH_THROTTLE_PENALTY_SECONDS must be a whole number from 1 to 86400',
      'ISTHMUS_AUTH_THROTTLE_CAPACITY must be a whole number from 1 to 10000000',
      'ISTHMUS_TRUSTED_PROXIES: entry 2: a range\'s prefix must be from /8 to /32 for IPv4',
    ]);
  });
});
