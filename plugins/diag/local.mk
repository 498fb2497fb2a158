# plugins/diag/local.mk: rules added by the diag plugin
