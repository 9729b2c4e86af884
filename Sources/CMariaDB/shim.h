#pragma once
#include <mysql.h>

static inline int cmariadb_set_uint(MYSQL *m, enum mysql_option o, unsigned int v) { return mysql_options(m, o, &v); }
static inline int cmariadb_set_bool(MYSQL *m, enum mysql_option o, int v) { my_bool b = (my_bool)v; return mysql_options(m, o, &b); }
static inline int cmariadb_set_string(MYSQL *m, enum mysql_option o, const char *v) { return mysql_options(m, o, v); }
