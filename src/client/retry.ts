// Retrying retriable Kafka errors with capped exponential backoff and jitter.
import { ErrorCode, KafkaError } from "../protocol/error-codes.ts";
import { ClientClosedError } from "./errors.ts";

export interface RetryOptions {
  /** Attempts after the first (Kafka's `retries`, bounded here by time as well). */
  retries: number;
  /** First backoff (Kafka's retry.backoff.ms). */
  retryBackoffMs: number;
  /** Largest backoff (Kafka's retry.backoff.max.ms). */
  retryBackoffMaxMs: number;
  /** UNKNOWN_TOPIC_OR_PARTITION is retried only this often: the topic may simply not exist. */
  unknownTopicRetries: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  retries: 10,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1000,
  unknownTopicRetries: 3,
};

/** The backoff before retry number `attempt` (1-based): doubling, capped, with ±20 % jitter. */
export function backoffMs(options: RetryOptions, attempt: number): number {
  const base = Math.min(options.retryBackoffMaxMs, options.retryBackoffMs * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Whether an error may be retried at this attempt (1-based count of retries so far + 1). */
export function shouldRetry(error: unknown, attempt: number, options: RetryOptions): boolean {
  if (!(error instanceof KafkaError) || error instanceof ClientClosedError) return false;
  if (!error.retriable || attempt > options.retries) return false;
  if (error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return attempt <= options.unknownTopicRetries;
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `attempt` until it succeeds or fails with an error that may not be retried; before each
 * retry `onRetry` runs (to refresh metadata, say). The last error is thrown as it was.
 */
export async function withRetries<T>(
  options: RetryOptions,
  attempt: (n: number) => Promise<T>,
  onRetry: (error: KafkaError) => Promise<void> | void = () => undefined,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!shouldRetry(e, n, options)) throw e;
      await sleep(backoffMs(options, n));
      await onRetry(e as KafkaError);
    }
  }
}
