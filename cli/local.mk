# esactl: the admin CLI.
sbin_PROGRAMS += cli/esactl
cli_esactl_SOURCES = \
	cli/esactl.c \
	cli/esactl-private.h \
	cli/esactl-client.c \
	cli/esactl-output.c \
	cli/esactl-progress.c \
	cli/esactl-table.c \
	cli/esactl-core.c \
	cli/esactl-connect.c \
	cli/esactl-identity.c \
	cli/esactl-plugins.c \
	cli/esactl-history.c \
	cli/esactl-info.c \
	cli/esactl-preview.c \
	cli/esactl-plugin-admin.c
cli_esactl_CFLAGS = $(AM_CFLAGS) $(SOUP_CFLAGS) -I$(top_srcdir)/cli
cli_esactl_LDADD = core/libesa-internal.la $(GLIB_LIBS) $(JSON_LIBS) $(SOUP_LIBS)
include $(srcdir)/cli/tests.mk
