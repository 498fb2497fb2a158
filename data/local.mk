# data: the sample config, service definitions, TLS priority overrides.
esaconfdir = $(sysconfdir)/esa
dist_esaconf_DATA = data/esa.conf data/gnutls-priority.conf

systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = data/esad.service
CLEANFILES += data/esad.service
EXTRA_DIST += data/esad.service.in

data/esad.service: $(srcdir)/data/esad.service.in Makefile
	$(AM_V_GEN)mkdir -p data && sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' $< > $@

# AIX: SRC/inittab/errnotify registration and the installp scripts (docs/packaging.md).
aixdir = $(pkglibdir)/aix
dist_aix_SCRIPTS = data/aix/esad-src.sh
EXTRA_DIST += data/aix/openesa.rte.config data/aix/openesa.rte.unconfig \
	data/aix/openesa.proxy.config data/aix/openesa.proxy.unconfig data/aix/openesa.pre_i.in
