#pragma once
/// crypt_r(3) from libxcrypt: hashes `key` with the method and salt of `setting` (a shadow hash).
/// Returns a malloc'd string the caller frees, or NULL.
char *ccrypt_hash(const char *key, const char *setting);
