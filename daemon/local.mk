# esad: the agent daemon — the composition root that wires libesa, the
# transports and the control server (HTTP on a Unix socket, libsoup).
# The daemon's parts are a helper library so the tests can link them.
noinst_LTLIBRARIES += daemon/libesad.la
daemon_libesad_la_SOURCES = \
	daemon/esa-log.c \
	daemon/esa-log-private.h \
	daemon/esa-peercred.c \
	daemon/esa-peercred-private.h \
	daemon/esa-control.c \
	daemon/esa-control-private.h \
	daemon/esa-control-routes.c \
	daemon/esa-control-routes-private.h \
	daemon/esa-sender-routes.c \
	daemon/esa-sender-routes-private.h \
	daemon/esa-identity-routes.c \
	daemon/esa-identity-routes-private.h \
	daemon/esa-info-routes.c \
	daemon/esa-info-routes-private.h \
	daemon/esa-preview-routes.c \
	daemon/esa-preview-routes-private.h \
	daemon/esa-registration-poll.c \
	daemon/esa-registration-poll-private.h \
	daemon/esad-transports.c \
	daemon/esad-transports.h
daemon_libesad_la_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) -I$(top_srcdir)/daemon \
	-I$(top_srcdir)/transports -I$(top_srcdir)/transports/https -I$(top_srcdir)/transports/file \
	-DG_LOG_DOMAIN=\"esa\"
daemon_libesad_la_LIBADD = transports/libesa-transport.la \
	$(SOUP_LIBS) $(GLIB_LIBS) $(JSON_LIBS)

sbin_PROGRAMS += daemon/esad
daemon_esad_SOURCES = daemon/esad.c
daemon_esad_LDFLAGS = $(ESA_HOST_LINK_FLAGS)
daemon_esad_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) -I$(top_srcdir)/daemon -DG_LOG_DOMAIN=\"esa\"
daemon_esad_LDADD = daemon/libesad.la transports/libesa-transport.la core/libesa-internal.la \
	$(GLIB_LIBS) $(JSON_LIBS) $(SOUP_LIBS)
