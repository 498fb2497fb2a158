# libesa: the core shared by esad, esactl and every plugin. It links no
# HTTP library: the transports and the control server live beside it.
#
# Two libraries of the same objects: core/libesa-internal.la (a convenience
# library, every function) is what esad, esactl, the transports and the tests
# link, statically; the installed core/libesa.la wraps it and exports only the
# public API (core/libesa.map, checked against the headers by tests/test-abi.sh),
# so a plugin cannot link an internal function. esad exports that same list
# from its own copy (ESA_HOST_LINK_FLAGS) so plugins share esad's core.
# New core sources go in core_libesa_internal_la_SOURCES; a new function of
# core/esa/*.h or protocol/esa/*.h also goes in core/libesa.map.
noinst_LTLIBRARIES += core/libesa-internal.la
core_libesa_internal_la_SOURCES = \
	core/esa-report.c \
	core/esa-config.c \
	core/esa-fileutil.c \
	core/esa-contact.c \
	core/esa-queue.c \
	core/esa-plugin-loader.c \
	core/esa-plugin-loader-elf.c \
	core/esa-dispatcher.c \
	core/esa-context.c \
	core/esa-engine.c \
	core/esa-transport.c \
	core/esa-sender.c \
	core/esa-history.c \
	core/esa-preview.c \
	core/esa-upload-progress.c \
	core/esa-memory.c \
	core/esa-memory-private.h \
	core/esa-test-hook-private.h \
	core/esa-config.h \
	core/esa-config-private.h \
	core/esa-context-private.h \
	core/esa-dispatcher.h \
	core/esa-engine.h \
	core/esa-engine-private.h \
	core/esa-fileutil.h \
	core/esa-plugin-loader.h \
	core/esa-plugin-loader-private.h \
	core/esa-queue.h \
	core/esa-sender.h \
	core/esa-transport.h \
	core/esa-contact.h \
	core/esa-history.h \
	core/esa-preview.h \
	core/esa-upload-progress.h \
	core/esa-report-private.h
core_libesa_internal_la_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) -DG_LOG_DOMAIN=\"esa\"
core_libesa_internal_la_LIBADD = protocol/libesa-protocol.la $(GLIB_LIBS) $(JSON_LIBS) $(GNUTLS_LIBS) -lm

lib_LTLIBRARIES += core/libesa.la
core_libesa_la_SOURCES =
core_libesa_la_LIBADD = core/libesa-internal.la $(GLIB_LIBS) $(JSON_LIBS) $(GNUTLS_LIBS) -lm
core_libesa_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-Wl,--version-script=$(srcdir)/core/libesa.map
EXTRA_core_libesa_la_DEPENDENCIES = core/libesa.map
EXTRA_DIST += core/libesa.map

# The programs that load plugins (esad, the tests) export the public API from
# their static copy of the core: the plugin's references bind there, so
# esad and its plugins share one core (one set of statics), and a plugin
# asking for an internal function finds it nowhere and is refused at load.
core/libesa-host.list: $(srcdir)/core/libesa.map
	$(AM_V_GEN){ echo '{'; sed -n 's/^ *\(esa_[a-zA-Z0-9_]*\);$$/  \1;/p' $(srcdir)/core/libesa.map; echo '};'; } >$@
BUILT_SOURCES = core/libesa-host.list
CLEANFILES += core/libesa-host.list
ESA_HOST_LINK_FLAGS = -Wl,--dynamic-list=$(top_builddir)/core/libesa-host.list

esainclude_HEADERS += \
	core/esa/esa-plugin.h \
	core/esa/esa-context.h \
	core/esa/esa-error.h \
	core/esa/esa-report.h \
	core/esa/esa-platform.h \
	core/esa/esa-subprocess.h \
	core/esa/esa-aix.h \
	core/esa/esa-aix-records.h
pkgconfig_DATA += core/esa-plugin.pc
# The complete example collector of docs/plugin-sdk.md (tests/test-sdk builds it).
esaexamplesdir = $(docdir)/examples
esaexamples_DATA = docs/examples/example-collector.c
EXTRA_DIST += core/esa-plugin.pc.in

# Platform detection, the subprocess helper and AIX output parsers.
include $(srcdir)/core/platform.mk
# Schedules: parsing and next-run computation.
include $(srcdir)/core/schedule.mk
