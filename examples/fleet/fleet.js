// SPDX-License-Identifier: Apache-2.0
// The fleet cache's one computation (examples/fleet/, docs/fleet.md): the
// part of the cache key that stands for a request's X-Auth-Token. It is
// an HMAC-SHA-256 of the token keyed by a secret of the cache host
// ($interlink_cache_secret, from cache-secret.conf), so that each token
// has entries of its own while no file of the cache, and no log, holds the
// token: the cache file's KEY line holds this digest, and without the
// secret a digest cannot be checked against guessed tokens.
//
// Only what Debian 12 (njs 0.7.9) and 13 (njs 0.8.9) both have:
// require('crypto').createHmac, digest('hex').

const crypto = require('crypto');

function token_key(r) {
    const secret = r.variables.interlink_cache_secret;
    const token = r.headersIn['X-Auth-Token'];

    // Fail closed: without the secret (64 hex digits or more), no key is
    // made (nginx answers 500 and its error log says why) rather than one
    // a token could be found from.
    if (!/^[0-9a-fA-F]{64,}$/.test(secret || '')) {
        throw new Error('interlink_cache_secret is not set: see '
                        + 'cache-secret.conf');
    }
    if (!token) {
        return '';
    }
    return crypto.createHmac('sha256', secret).update(token).digest('hex');
}

export default {token_key};
