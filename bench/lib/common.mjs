/** What every benchmark shares: the default project and its access key, and how figures are rounded. */

export const PROJECT = '0123456789abcdef0123456789abcdef';
export const CREDENTIALS = { ak: 'EXAMPLEAK0000000001', sk: 'ExampleSecretKey0000000000000000000000000', projectId: PROJECT };

export const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** result / baseline, to three places. */
export const ratio = (a, b) => round(a / b, 3);
