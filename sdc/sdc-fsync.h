/* sdc-fsync.h: making a file's new name survive a crash. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* After a rename or link to PATH: fsyncs the folder PATH is in, so the new name is on
 * disk too (best effort: a folder that cannot be opened is left as it is). */
void sdc_fsync_parent_dir (const char *path);

G_END_DECLS
