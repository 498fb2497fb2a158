# plugins/sysinfo/local.mk: rules added by the sysinfo plugin
