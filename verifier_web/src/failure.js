// One error type for evidence that does not hold: a message key (translated by i18n.js) and
// its parameters, so every check's detail can be shown in Chinese and in English.

export class Failure extends Error {
  /** `key` names a message of i18n.js; `params` fill it in. */
  constructor(key, params = {}) {
    super(key);
    this.key = key;
    this.params = params;
  }
}

/** A check detail: a message key and its parameters. */
export function detail(key, params = {}) {
  return { key, params };
}
