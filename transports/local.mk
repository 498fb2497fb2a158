# Transports: the implementations of EsaTransport (core/esa-transport.h) —
# how reports leave the machine: https with proxies and failover, file for
# offline sites. esad registers them by name; libesa's sender picks one.
noinst_LTLIBRARIES += transports/libesa-transport.la
transports_libesa_transport_la_SOURCES = \
	transports/esa-credentials.c \
	transports/esa-credentials.h \
	transports/esa-deliver.c \
	transports/esa-deliver.h \
	transports/https/esa-https.h \
	transports/https/esa-https.c \
	transports/https/esa-https-transport.c \
	transports/https/esa-https-transport.h \
	transports/https/esa-routes.c \
	transports/https/esa-tls-policy.c \
	transports/https/esa-tls-policy-private.h \
	transports/file/esa-outbox.c \
	transports/file/esa-outbox.h \
	transports/file/esa-file-transport.c \
	transports/file/esa-file-transport.h
transports_libesa_transport_la_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) $(GNUTLS_CFLAGS) \
	-I$(top_srcdir)/transports -I$(top_srcdir)/transports/https -I$(top_srcdir)/transports/file \
	-DG_LOG_DOMAIN=\"esa\"
transports_libesa_transport_la_LIBADD = $(SOUP_LIBS) $(GNUTLS_LIBS) $(GLIB_LIBS) $(JSON_LIBS) -lm
include $(srcdir)/transports/tests.mk
