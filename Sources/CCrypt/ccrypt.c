#include "ccrypt.h"
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

char *ccrypt_hash(const char *key, const char *setting) {
    struct crypt_data *data = calloc(1, sizeof(struct crypt_data));
    if (!data) return NULL;
    char *out = crypt_r(key, setting, data);
    char *copy = (out && out[0] != '*') ? strdup(out) : NULL;
    explicit_bzero(data, sizeof(struct crypt_data));
    free(data);
    return copy;
}
