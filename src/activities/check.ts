import type { AmplitudeClient } from '../amplitude/client.ts';
import { toFailure } from '../amplitude/errors.ts';

export interface CheckResult {
  baseUrl: string;
  /** The endpoint whose answer proved the credentials and region. */
  verifiedWith: string;
}

const CHECK_ENDPOINT = '/api/2/annotations';

/** One cheap authenticated call: a bad key or a key of the other region fails here. */
export async function checkConnection(amplitude: AmplitudeClient): Promise<CheckResult> {
  try {
    await amplitude.getJson(CHECK_ENDPOINT);
  } catch (error) {
    throw toFailure(error);
  }
  return { baseUrl: amplitude.baseUrl, verifiedWith: CHECK_ENDPOINT };
}
