# proxy: rules added by its component
