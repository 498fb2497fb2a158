# packaging: `make installp` builds the AIX installp image openesa-VRMF.bff in
# $(builddir)/installp from a staging tree with AIX paths (docs/packaging.md).
EXTRA_DIST += packaging/aix/mkbff packaging/aix/openesa.filesets

.PHONY: installp
installp: all
	$(SHELL) $(top_srcdir)/scripts/installp-stage $(top_builddir) $(abs_top_builddir)/installp
