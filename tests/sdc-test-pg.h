/* sdc-test-pg.h: a throw-away PostgreSQL cluster for esa-sdc's tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A new empty database in this process's cluster (started on first use: initdb and
 * pg_ctl as an unprivileged user, Unix socket in a temporary folder, no TCP), as a
 * "postgresql:///…?host=…" URI; NULL and *why when PostgreSQL is not installed. */
char *esa_test_pg_new_database (char **why);
/* Runs @sql (several statements allowed) on the database at @location; asserts success. */
void  esa_test_pg_exec         (const char *location, const char *sql);
/* Stops the cluster and removes its files (also run at exit). */
void  esa_test_pg_stop         (void);

G_END_DECLS
