# data: the sample config, service definitions, TLS priority overrides.
esaconfdir = $(sysconfdir)/esa
dist_esaconf_DATA = data/esa.conf data/gnutls-priority.conf

systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = data/esad.service data/esa-proxy.service data/esa-sdc.service
CLEANFILES += $(systemdunit_DATA)
EXTRA_DIST += data/esad.service.in data/esa-proxy.service.in data/esa-sdc.service.in

# sysusers.d/tmpfiles.d snippets: the esa group, service users, /var/esa.
sysusersdir = $(prefix)/lib/sysusers.d
tmpfilesdir = $(prefix)/lib/tmpfiles.d
install-data-local: install-openesa-snippets
install-openesa-snippets:
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)' '$(DESTDIR)$(tmpfilesdir)'
	$(INSTALL_DATA) $(srcdir)/data/openesa.sysusers '$(DESTDIR)$(sysusersdir)/openesa.conf'
	$(INSTALL_DATA) $(srcdir)/data/openesa.tmpfiles '$(DESTDIR)$(tmpfilesdir)/openesa.conf'
uninstall-local: uninstall-openesa-snippets
uninstall-openesa-snippets:
	rm -f '$(DESTDIR)$(sysusersdir)/openesa.conf' '$(DESTDIR)$(tmpfilesdir)/openesa.conf'
EXTRA_DIST += data/openesa.sysusers data/openesa.tmpfiles
.PHONY: install-openesa-snippets uninstall-openesa-snippets

# Installed documentation (the units' Documentation= points here).
dist_doc_DATA = README.md LICENSE docs/packaging.md docs/plugin-sdk.md \
	docs/protocol.md docs/proxy.md docs/security.md

data/%.service: $(srcdir)/data/%.service.in Makefile
	$(AM_V_GEN)mkdir -p data && sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g' \
	  -e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@localstatedir[@]|$(localstatedir)|g' \
	  -e 's|@docdir[@]|$(docdir)|g' $< > $@

# AIX: SRC/inittab/errnotify registration and the installp scripts (docs/packaging.md).
aixdir = $(pkglibdir)/aix
dist_aix_SCRIPTS = data/aix/esad-src.sh
EXTRA_DIST += data/aix/openesa.rte.config data/aix/openesa.rte.unconfig \
	data/aix/openesa.proxy.config data/aix/openesa.proxy.unconfig data/aix/openesa.pre_i.in

# Manual pages (tests/test-man.sh renders them and checks their coverage).
dist_man8_MANS = data/man/esad.8 data/man/esactl.8 data/man/esa-proxy.8 data/man/esa-sdc.8
dist_man5_MANS = data/man/esa.conf.5 data/man/esa-proxy.conf.5

# Bash completion for esactl, installed as "esactl" where bash-completion looks.
bashcompletion_DATA = data/esactl
CLEANFILES += data/esactl
EXTRA_DIST += data/esactl.bash-completion
data/esactl: $(srcdir)/data/esactl.bash-completion
	$(AM_V_GEN)mkdir -p data && cp $< $@
