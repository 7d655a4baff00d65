// Shared by the in-process store tests: the ApiError a call throws, as the HTTP layer would send it.
import { ApiError } from '../../devcluster/store/errors.ts';

/** Runs `fn` and returns the ApiError it throws; fails the test when it succeeds or throws anything else. */
export function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError, the call succeeded');
}
