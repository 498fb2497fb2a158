# libesa: the core shared by esad, esactl and every plugin. It links no
# HTTP library: the transports and the control server live beside it.
lib_LTLIBRARIES += core/libesa.la
core_libesa_la_SOURCES = \
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
	core/esa-preview.c
core_libesa_la_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS) -DG_LOG_DOMAIN=\"esa\"
core_libesa_la_LIBADD = protocol/libesa-protocol.la $(GLIB_LIBS) $(JSON_LIBS) $(GNUTLS_LIBS) -lm
core_libesa_la_LDFLAGS = -version-info 0:0:0 -no-undefined -export-symbols-regex '^_?esa_'

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
EXTRA_DIST += core/esa-plugin.pc.in

# Platform detection, the subprocess helper and AIX output parsers.
include $(srcdir)/core/platform.mk
# Schedules: parsing and next-run computation.
include $(srcdir)/core/schedule.mk
