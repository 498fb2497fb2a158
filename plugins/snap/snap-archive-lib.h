/* snap-archive-lib.h: libarchive, held only while a snap archive is built.
 *
 * Where the build found libarchive's soname (ELF systems: configure defines
 * SNAP_ARCHIVE_SONAME), the plugin does not link it: libarchive and what it
 * drags in (libxml2, ICU, libstdc++, four compressors: about 2.4 MiB resident
 * on Debian) would otherwise sit in idle esad for good. The archive_* calls of
 * snap-collect.c and snap-repack.c then go through a table filled by
 * snap_archive_lib_open (); elsewhere they are the linked functions and
 * open/close do nothing. Include this instead of <archive.h>. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>

G_BEGIN_DECLS

/* Takes a reference on libarchive (opening it on the first); FALSE with
 * @error when it cannot be opened. Every successful open needs a close. */
gboolean snap_archive_lib_open (GError **error);
/* Drops the reference; the last one closes libarchive again. */
void snap_archive_lib_close (void);

#define SNAP_ARCHIVE_FUNCS(X) \
  X (archive_entry_clone) X (archive_entry_filetype) X (archive_entry_free) X (archive_entry_new) \
  X (archive_entry_pathname) X (archive_entry_set_filetype) X (archive_entry_set_mtime) \
  X (archive_entry_set_pathname) X (archive_entry_set_perm) X (archive_entry_set_size) \
  X (archive_error_string) X (archive_read_data) X (archive_read_free) X (archive_read_new) \
  X (archive_read_next_header) X (archive_read_open_filename) X (archive_read_support_filter_all) \
  X (archive_read_support_format_all) X (archive_write_add_filter_compress) \
  X (archive_write_add_filter_gzip) X (archive_write_close) X (archive_write_data) \
  X (archive_write_free) X (archive_write_header) X (archive_write_new) \
  X (archive_write_open_filename) X (archive_write_set_format_pax_restricted)

#ifdef SNAP_ARCHIVE_SONAME
#define SNAP_ARCHIVE_MEMBER(f) __typeof__ (f) *f;
typedef struct {
  SNAP_ARCHIVE_FUNCS (SNAP_ARCHIVE_MEMBER)
} SnapArchiveLib;
#undef SNAP_ARCHIVE_MEMBER

/* Valid between snap_archive_lib_open () and the matching close. */
extern SnapArchiveLib snap_archive_lib;

#ifndef SNAP_ARCHIVE_LIB_IMPL
#define archive_entry_clone (snap_archive_lib.archive_entry_clone)
#define archive_entry_filetype (snap_archive_lib.archive_entry_filetype)
#define archive_entry_free (snap_archive_lib.archive_entry_free)
#define archive_entry_new (snap_archive_lib.archive_entry_new)
#define archive_entry_pathname (snap_archive_lib.archive_entry_pathname)
#define archive_entry_set_filetype (snap_archive_lib.archive_entry_set_filetype)
#define archive_entry_set_mtime (snap_archive_lib.archive_entry_set_mtime)
#define archive_entry_set_pathname (snap_archive_lib.archive_entry_set_pathname)
#define archive_entry_set_perm (snap_archive_lib.archive_entry_set_perm)
#define archive_entry_set_size (snap_archive_lib.archive_entry_set_size)
#define archive_error_string (snap_archive_lib.archive_error_string)
#define archive_read_data (snap_archive_lib.archive_read_data)
#define archive_read_free (snap_archive_lib.archive_read_free)
#define archive_read_new (snap_archive_lib.archive_read_new)
#define archive_read_next_header (snap_archive_lib.archive_read_next_header)
#define archive_read_open_filename (snap_archive_lib.archive_read_open_filename)
#define archive_read_support_filter_all (snap_archive_lib.archive_read_support_filter_all)
#define archive_read_support_format_all (snap_archive_lib.archive_read_support_format_all)
#define archive_write_add_filter_compress (snap_archive_lib.archive_write_add_filter_compress)
#define archive_write_add_filter_gzip (snap_archive_lib.archive_write_add_filter_gzip)
#define archive_write_close (snap_archive_lib.archive_write_close)
#define archive_write_data (snap_archive_lib.archive_write_data)
#define archive_write_free (snap_archive_lib.archive_write_free)
#define archive_write_header (snap_archive_lib.archive_write_header)
#define archive_write_new (snap_archive_lib.archive_write_new)
#define archive_write_open_filename (snap_archive_lib.archive_write_open_filename)
#define archive_write_set_format_pax_restricted (snap_archive_lib.archive_write_set_format_pax_restricted)
#endif
#endif

G_END_DECLS
