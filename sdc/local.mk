# sdc: rules added by its component
