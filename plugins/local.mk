# Plugins: one folder each, built as modules into $(plugindir).
plugin_LTLIBRARIES += plugins/heartbeat/heartbeat.la
plugins_heartbeat_heartbeat_la_SOURCES = plugins/heartbeat/heartbeat.c
plugins_heartbeat_heartbeat_la_CFLAGS = $(AM_CFLAGS) -DG_LOG_DOMAIN=\"esa-heartbeat\"
plugins_heartbeat_heartbeat_la_LIBADD = core/libesa.la $(GLIB_LIBS) $(JSON_LIBS)
plugins_heartbeat_heartbeat_la_LDFLAGS = $(ESA_PLUGIN_LINK_FLAGS)
EXTRA_DIST += plugins/heartbeat/README.md
include $(srcdir)/plugins/diag/local.mk
include $(srcdir)/plugins/snap/local.mk
include $(srcdir)/plugins/sysinfo/local.mk
include $(srcdir)/plugins/uak/local.mk
