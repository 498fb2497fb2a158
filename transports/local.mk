# Transports: how reports leave the machine (https with proxies and failover;
# file for offline sites) and the sender that drains the queue through them.
noinst_LTLIBRARIES += transports/libesa-transport.la
transports_libesa_transport_la_SOURCES = \
	transports/esa-transport-private.h \
	transports/esa-credentials.c \
	transports/esa-credentials-private.h \
	transports/esa-deliver.c \
	transports/esa-deliver-private.h \
	transports/esa-sender.c \
	transports/esa-sender-private.h \
	transports/esa-sender-routes.c \
	transports/esa-sender-routes-private.h \
	transports/https/esa-https.c \
	transports/https/esa-routes.c \
	transports/https/esa-tls-policy.c \
	transports/https/esa-tls-policy-private.h \
	transports/file/esa-outbox.c \
	transports/file/esa-outbox-private.h
transports_libesa_transport_la_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) $(GNUTLS_CFLAGS) \
	-I$(top_srcdir)/transports -I$(top_srcdir)/transports/https -I$(top_srcdir)/transports/file \
	-DG_LOG_DOMAIN=\"esa\"
transports_libesa_transport_la_LIBADD = core/libesa.la $(SOUP_LIBS) $(GNUTLS_LIBS) $(GLIB_LIBS) $(JSON_LIBS) -lm
include $(srcdir)/transports/tests.mk
