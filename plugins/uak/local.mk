# plugins/uak/local.mk: rules added by the uak plugin
