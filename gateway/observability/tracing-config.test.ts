import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.ts';
import { DEFAULT_OTLP_EXPORT_DELAY_MS, DEFAULT_OTLP_MAX_BATCH, DEFAULT_OTLP_SAMPLE_RATIO, DEFAULT_OTLP_SERVICE_NAME } from './tracing-config.ts';

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('tracing settings', () => {
  it('are off without an endpoint', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
  });

  it('take an endpoint on loopback over http, with named defaults for the rest', () => {
    const tracing = loadConfig({ ISTHMUS_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }).tracing!;
    expect(tracing.endpoint.href).toBe('http://127.0.0.1:4318/v1/traces');
    expect(tracing.serviceName).toBe(DEFAULT_OTLP_SERVICE_NAME);
    expect(tracing.sampleRatio).toBe(DEFAULT_OTLP_SAMPLE_RATIO);
    expect(tracing.maxBatch).toBe(DEFAULT_OTLP_MAX_BATCH);
    expect(tracing.exportDelayMs).toBe(DEFAULT_OTLP_EXPORT_DELAY_MS);
  });

  it('read every setting given', () => {
    const tracing = loadConfig({
      ISTHMUS_OTLP_TRACES_ENDPOINT: 'https://collector.city.example/v1/traces',
      ISTHMUS_OTLP_SERVICE_NAME: 'isthmus-east',
      ISTHMUS_OTLP_SAMPLE_RATIO: '0.25',
      ISTHMUS_OTLP_EXPORT_TIMEOUT_MS: '3000',
      ISTHMUS_OTLP_MAX_BATCH: '100',
      ISTHMUS_OTLP_EXPORT_DELAY_MS: '1000',
    }).tracing!;
    expect(tracing).toMatchObject({ serviceName: 'isthmus-east', sampleRatio: 0.25, exportTimeoutMs: 3000, maxBatch: 100, exportDelayMs: 1000 });
  });

  it('refuse plain http off loopback, credentials in the URL and bad numbers, all reported together', () => {
    expect(problemsOf({ ISTHMUS_OTLP_TRACES_ENDPOINT: 'http://collector.city.example/v1/traces' })).toEqual([
      expect.stringMatching(/^ISTHMUS_OTLP_TRACES_ENDPOINT must use https/),
    ]);
    expect(problemsOf({ ISTHMUS_OTLP_TRACES_ENDPOINT: 'https://user:secret@collector.city.example/' })[0]).toMatch(/^ISTHMUS_OTLP_TRACES_ENDPOINT must not carry credentials/);
    expect(problemsOf({ ISTHMUS_OTLP_TRACES_ENDPOINT: 'not a url' })[0]).toMatch(/^ISTHMUS_OTLP_TRACES_ENDPOINT must be an http\(s\) URL/);
    const problems = problemsOf({ ISTHMUS_OTLP_TRACES_ENDPOINT: 'http://[::1]:4318/', ISTHMUS_OTLP_SAMPLE_RATIO: '2', ISTHMUS_OTLP_MAX_BATCH: '0', ISTHMUS_OTLP_SERVICE_NAME: 'a b' });
    expect(problems.map((problem) => problem.split(' ')[0])).toEqual(['ISTHMUS_OTLP_SERVICE_NAME', 'ISTHMUS_OTLP_SAMPLE_RATIO', 'ISTHMUS_OTLP_MAX_BATCH']);
  });

  it('refuse the other settings without an endpoint, naming each', () => {
    expect(problemsOf({ ISTHMUS_OTLP_SAMPLE_RATIO: '0.5' })).toEqual(['ISTHMUS_OTLP_SAMPLE_RATIO needs ISTHMUS_OTLP_TRACES_ENDPOINT: tracing is off without it']);
  });
});
