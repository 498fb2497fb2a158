# plugins/snap/local.mk: rules added by the snap plugin.
# Only this plugin links libarchive (ARCHIVE_CFLAGS/LIBS from configure.ac).
noinst_LTLIBRARIES += plugins/snap/libesa-snap.la
plugins_snap_libesa_snap_la_SOURCES = \
	plugins/snap/snap-collect.c plugins/snap/snap-collect.h \
	plugins/snap/snap-job.c plugins/snap/snap-job.h \
	plugins/snap/snap-redact.c plugins/snap/snap-redact.h
plugins_snap_libesa_snap_la_CFLAGS = $(AM_CFLAGS) $(ARCHIVE_CFLAGS) -DG_LOG_DOMAIN=\"esa-snap\"
plugins_snap_libesa_snap_la_LIBADD = $(ARCHIVE_LIBS)

plugin_LTLIBRARIES += plugins/snap/snap.la
plugins_snap_snap_la_SOURCES = plugins/snap/snap.c
plugins_snap_snap_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-snap\"
plugins_snap_snap_la_LIBADD = plugins/snap/libesa-snap.la core/libesa.la $(GLIB_LIBS) $(JSON_LIBS) $(ARCHIVE_LIBS)
plugins_snap_snap_la_LDFLAGS = $(ESA_PLUGIN_LINK_FLAGS)

EXTRA_DIST += plugins/snap/README.md
