# plugins/snap/local.mk: rules added by the snap plugin
