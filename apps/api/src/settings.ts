// The API process's own settings, beside the shared Config: read once at start-up with
// @offload/config's readers, and a bad value fails fast with a ConfigError naming the variable
// and what it allows.
//
//   API_RATE_LIMIT_PER_SECOND   sustained requests per second per API key, per API process;
//                               0 turns rate limiting off. Default 100.
//   API_RATE_LIMIT_BURST        requests a key may send at once after being idle. Default 200.
//   API_UNKNOWN_KEY_PER_SECOND  unknown or revoked keys a client address may present per second,
//                               per API process, before it is answered 429 without any key
//                               lookup; 0 turns it off. Default 10.
//   API_UNKNOWN_KEY_BURST       unknown keys an address may present at once. Default 50.
//   API_KEY_CACHE_MS            how long a process trusts a key it looked up, so the time a
//                               revocation takes to bite. Default 5000; 0 looks up every request.
//   API_SSE_MAX_STREAMS_PER_KEY event streams one API key may hold open at once, per API process.
//                               Default 20.
//   API_SSE_MAX_STREAMS         event streams one API process serves at once. Default 2000.
//   API_SSE_KEY_CHECK_MS        how often the keys of open event streams are checked, so the time
//                               a revoked key's stream outlives it. Default 2000.
import { ConfigError, type ConfigIssue, numberSetting } from '@offload/config';

export interface ApiSettings {
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  keyCacheMs: number;
  unknownKeyPerSecond: number;
  unknownKeyBurst: number;
  sseMaxStreamsPerKey: number;
  sseMaxStreams: number;
  sseKeyCheckMs: number;
}

export const DEFAULT_API_SETTINGS: ApiSettings = Object.freeze({
  rateLimitPerSecond: 100,
  rateLimitBurst: 200,
  keyCacheMs: 5000,
  unknownKeyPerSecond: 10,
  unknownKeyBurst: 50,
  sseMaxStreamsPerKey: 20,
  sseMaxStreams: 2000,
  sseKeyCheckMs: 2000,
});

export function loadApiSettings(env: NodeJS.ProcessEnv): ApiSettings {
  const issues: ConfigIssue[] = [];
  const d = DEFAULT_API_SETTINGS;
  const read = (variable: string, fallback: number, min: number, max: number) =>
    numberSetting(env, variable, fallback, { min, max, integer: true }, issues);
  const settings: ApiSettings = {
    rateLimitPerSecond: read('API_RATE_LIMIT_PER_SECOND', d.rateLimitPerSecond, 0, 1_000_000),
    rateLimitBurst: read('API_RATE_LIMIT_BURST', d.rateLimitBurst, 1, 1_000_000),
    keyCacheMs: read('API_KEY_CACHE_MS', d.keyCacheMs, 0, 3_600_000),
    unknownKeyPerSecond: read('API_UNKNOWN_KEY_PER_SECOND', d.unknownKeyPerSecond, 0, 1_000_000),
    unknownKeyBurst: read('API_UNKNOWN_KEY_BURST', d.unknownKeyBurst, 1, 1_000_000),
    sseMaxStreamsPerKey: read('API_SSE_MAX_STREAMS_PER_KEY', d.sseMaxStreamsPerKey, 1, 1_000_000),
    sseMaxStreams: read('API_SSE_MAX_STREAMS', d.sseMaxStreams, 1, 1_000_000),
    sseKeyCheckMs: read('API_SSE_KEY_CHECK_MS', d.sseKeyCheckMs, 50, 3_600_000),
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return settings;
}
